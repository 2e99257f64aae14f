/**
 * One Durable Object per tenant (named by the tenant id) holding everything that must be counted
 * exactly for that tenant: its API ingress bucket, a send-rate bucket per provider config, its
 * monthly usage per channel, and the limits an operator set.
 *
 * Why this is race-free: a Durable Object runs one event at a time, and every method here reads,
 * decides and writes through the synchronous `ctx.storage.sql` with no `await` in between, so no
 * other request can interleave (input gates), and no caller hears "ok" before the write is
 * durable (output gates). Nothing here calls out to the network: a provider is called by the
 * delivery Worker only after it got its token. Each method does at most one batch of writes, which
 * the runtime coalesces into one durable commit, and refusals write nothing at all.
 */
import { DurableObject } from "cloudflare:workers";
import { CHANNELS, type Channel } from "../domain";
import type { Env } from "../env";
import { DEFAULT_API_RATE_LIMIT, Quotas, RateLimit, quotaPeriod } from "./limits";
import { fullBucket, pause, reserve, standing, take, type Bucket } from "./token-bucket";

/** Seconds a provider's 429 without a usable Retry-After stops its bucket. */
const DEFAULT_PROVIDER_PAUSE_SECONDS = 5;
/** A booked slot counts as come this much early: the consumer's clock is not ours. */
const SLOT_GRACE_MS = 250;
/** Bookings whose message never came back (cancelled meanwhile) are forgotten after this. */
const BOOKING_TTL_MS = 24 * 60 * 60 * 1000;
const API_BUCKET = "api";

export type TenantLimits = { rateLimit: RateLimit; quotas: Record<Channel, number | null> };
export type LimitsPatch = { rateLimit?: RateLimit | null; quotas?: Quotas };

export type ApiAllowance = {
  ok: boolean;
  limit: RateLimit;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until this request's cost would be available; 0 when it was admitted. */
  retryAfterSeconds: number;
  /** The cost is more than the bucket can ever hold: waiting will not help. */
  exceedsBurst: boolean;
};

export type ChannelUsage = { channel: Channel; used: number; quota: number | null; remaining: number | null };
export type QuotaCharge =
  | { ok: true; period: string }
  | { ok: false; period: string; resetsAt: string; channel: Channel; quota: number; used: number; requested: number };
export type Usage = { period: string; periodStart: string; resetsAt: string; channels: ChannelUsage[] };

export class TenantLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private rateLimit: RateLimit | null = null;
  private quotas: Quotas = {};
  /** Write-through cache: the rows are read once per object lifetime, written on every change. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Synchronous, so no request can arrive before the tables exist.
    this.sql.exec("CREATE TABLE IF NOT EXISTS bucket (name TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS booking (bucket TEXT NOT NULL, ticket TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (bucket, ticket))");
    this.sql.exec("CREATE TABLE IF NOT EXISTS usage (period TEXT NOT NULL, channel TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (period, channel))");
    this.sql.exec("CREATE TABLE IF NOT EXISTS setting (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
    for (const row of this.sql.exec<{ name: string; value: string }>("SELECT name, value FROM setting")) {
      if (row.name === "rateLimit") this.rateLimit = RateLimit.parse(JSON.parse(row.value));
      if (row.name === "quotas") this.quotas = Quotas.parse(JSON.parse(row.value));
    }
  }

  /** Admits an API request costing `cost` tokens (a batch costs one per item), or says when to retry. */
  takeApi(cost: number): ApiAllowance {
    const limit = this.rateLimit ?? DEFAULT_API_RATE_LIMIT;
    const now = Date.now();
    const exceedsBurst = cost > limit.burst;
    const result = exceedsBurst ? undefined : take(this.bucket(API_BUCKET, limit, now), limit, cost, now);
    if (result?.ok) this.save(API_BUCKET, result.bucket);
    const { remaining, fullInSeconds } = standing(result?.bucket ?? this.bucket(API_BUCKET, limit, now), limit, now);
    return {
      ok: result?.ok ?? false,
      limit,
      remaining,
      resetSeconds: fullInSeconds,
      retryAfterSeconds: result && !result.ok ? Math.max(1, Math.ceil(result.waitMs / 1000)) : 0,
      exceedsBurst,
    };
  }

  /**
   * One send through a provider config's bucket. `ticket` (the communication id) identifies the
   * sender: if the bucket is empty it books the next free slot for that ticket and returns the
   * wait; when the ticket comes back at its slot it goes without taking again. 0 means send now.
   */
  takeProvider(name: string, limit: RateLimit, ticket: string): number {
    const now = Date.now();
    const booked = this.sql.exec<{ at: number }>("SELECT at FROM booking WHERE bucket = ? AND ticket = ?", name, ticket).toArray()[0];
    if (booked) {
      if (booked.at - SLOT_GRACE_MS > now) return booked.at - now;
      this.sql.exec("DELETE FROM booking WHERE bucket = ? AND ticket = ?", name, ticket);
      return 0;
    }
    const bucket = this.bucket(name, limit, now);
    const taken = take(bucket, limit, 1, now);
    if (taken.ok) {
      this.save(name, taken.bucket);
      return 0;
    }
    const slot = reserve(bucket, limit, now);
    this.save(name, slot.bucket);
    this.sql.exec("INSERT OR REPLACE INTO booking (bucket, ticket, at) VALUES (?, ?, ?)", name, ticket, Math.ceil(slot.at));
    this.sql.exec("DELETE FROM booking WHERE bucket = ? AND at < ?", name, now - BOOKING_TTL_MS);
    return Math.max(1, slot.at - now);
  }

  /**
   * The provider answered 429: stop sending through it until its Retry-After has passed, then
   * resume at the sustained rate without the burst. Slots booked before are void (they would land
   * inside the pause); their messages book again when they come back.
   */
  slowProvider(name: string, limit: RateLimit, retryAfterSeconds: number | null): void {
    const now = Date.now();
    const cancelled = this.sql.exec("DELETE FROM booking WHERE bucket = ?", name).rowsWritten;
    const seconds = retryAfterSeconds && retryAfterSeconds > 0 ? retryAfterSeconds : DEFAULT_PROVIDER_PAUSE_SECONDS;
    this.save(name, pause(this.bucket(name, limit, now), limit, now, now + seconds * 1000, cancelled));
  }

  /**
   * Counts sends against this month's quotas, all or nothing: if any channel's sends do not fit,
   * nothing is counted and the answer names that channel. Returns the period counted in, so a
   * refund lands in the same month even when it comes after midnight on the 1st.
   */
  chargeQuota(requested: Partial<Record<Channel, number>>): QuotaCharge {
    const period = quotaPeriod(Date.now());
    const wanted = CHANNELS.filter((c) => (requested[c] ?? 0) > 0);
    for (const channel of wanted) {
      const quota = this.quotas[channel] ?? null;
      const used = this.used(period.id, channel);
      if (quota !== null && used + requested[channel]! > quota) {
        return { ok: false, period: period.id, resetsAt: new Date(period.resetsAt).toISOString(), channel, quota, used, requested: requested[channel]! };
      }
    }
    for (const channel of wanted) this.addUsage(period.id, channel, requested[channel]!);
    return { ok: true, period: period.id };
  }

  /** Gives back sends counted by chargeQuota that were not stored after all. */
  refundQuota(period: string, counts: Partial<Record<Channel, number>>): void {
    for (const channel of CHANNELS) {
      const n = counts[channel] ?? 0;
      if (n > 0) this.sql.exec("UPDATE usage SET used = max(0, used - ?) WHERE period = ? AND channel = ?", n, period, channel);
    }
  }

  usage(): Usage {
    const period = quotaPeriod(Date.now());
    return {
      period: period.id,
      periodStart: new Date(period.start).toISOString(),
      resetsAt: new Date(period.resetsAt).toISOString(),
      channels: this.usageIn(period.id),
    };
  }

  limits(): TenantLimits {
    return {
      rateLimit: this.rateLimit ?? DEFAULT_API_RATE_LIMIT,
      quotas: Object.fromEntries(CHANNELS.map((c) => [c, this.quotas[c] ?? null])) as Record<Channel, number | null>,
    };
  }

  /** Takes effect for the very next request: the buckets read the limits on every call. */
  configure(patch: LimitsPatch): TenantLimits {
    if (patch.rateLimit !== undefined) {
      this.rateLimit = patch.rateLimit;
      if (patch.rateLimit === null) this.sql.exec("DELETE FROM setting WHERE name = 'rateLimit'");
      else this.setting("rateLimit", patch.rateLimit);
    }
    if (patch.quotas !== undefined) {
      const merged: Quotas = { ...this.quotas, ...patch.quotas };
      for (const c of CHANNELS) if (merged[c] === null) delete merged[c];
      this.quotas = merged;
      this.setting("quotas", merged);
    }
    return this.limits();
  }

  private bucket(name: string, limit: RateLimit, now: number): Bucket {
    let b = this.buckets.get(name);
    if (!b) {
      const row = this.sql.exec<{ tokens: number; updated_at: number }>("SELECT tokens, updated_at FROM bucket WHERE name = ?", name).toArray()[0];
      b = row ? { tokens: row.tokens, updatedAt: row.updated_at } : fullBucket(limit, now);
      this.buckets.set(name, b);
    }
    return b;
  }

  private save(name: string, b: Bucket) {
    this.buckets.set(name, b);
    this.sql.exec(
      "INSERT INTO bucket (name, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at",
      name,
      b.tokens,
      b.updatedAt,
    );
  }

  private setting(name: string, value: unknown) {
    this.sql.exec("INSERT OR REPLACE INTO setting (name, value) VALUES (?, ?)", name, JSON.stringify(value));
  }

  private used(period: string, channel: Channel): number {
    return this.sql.exec<{ used: number }>("SELECT used FROM usage WHERE period = ? AND channel = ?", period, channel).toArray()[0]?.used ?? 0;
  }

  private addUsage(period: string, channel: Channel, n: number) {
    this.sql.exec(
      "INSERT INTO usage (period, channel, used) VALUES (?, ?, ?) ON CONFLICT (period, channel) DO UPDATE SET used = used + excluded.used",
      period,
      channel,
      n,
    );
  }

  private usageIn(period: string): ChannelUsage[] {
    return CHANNELS.map((channel) => {
      const used = this.used(period, channel);
      const quota = this.quotas[channel] ?? null;
      return { channel, used, quota, remaining: quota === null ? null : Math.max(0, quota - used) };
    });
  }
}
