/**
 * The limiter object: everything that must be counted exactly for one tenant. The API Worker uses
 * the object named by the tenant id for its API ingress bucket, its monthly usage per channel and
 * the limits an operator set; the delivery consumer uses a second one per tenant for the send-rate
 * buckets of its provider configs (src/durable/provider-throttle.ts), so draining a backlog never
 * slows the tenant's API down.
 *
 * Why this is race-free: an object runs one event at a time, and every method here reads, decides
 * and updates with no `await` at all (state in memory, storage through the synchronous SQL API),
 * so nothing can interleave. Nothing here calls out to the network: the consumer calls a provider
 * only after it got its token. Counters are written behind (src/durable/limiter-state.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { CHANNELS, type Channel } from "../domain";
import type { Env } from "../env";
import { DEFAULT_API_RATE_LIMIT, Quotas, RateLimit, quotaPeriod } from "./limits";
import { LimiterState } from "./limiter-state";
import { pause, reserve, standing, take } from "./token-bucket";

/** Seconds a provider's 429 without a usable Retry-After stops its bucket. */
const DEFAULT_PROVIDER_PAUSE_SECONDS = 5;
/** A booked slot counts as come this much early: the consumer's clock is not ours. */
const SLOT_GRACE_MS = 250;
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
/** Both decisions of one send request; the quota is charged only when the API bucket admitted it. */
export type SendAdmission = { api: ApiAllowance; quota: QuotaCharge | null };
export type Usage = { period: string; periodStart: string; resetsAt: string; channels: ChannelUsage[] };

export class TenantLimiter extends DurableObject<Env> {
  private readonly state: LimiterState;
  private rateLimit: RateLimit | null = null;
  private quotas: Quotas = {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.state = new LimiterState(ctx.storage.sql);
    const settings = this.state.settings();
    if (settings.has("rateLimit")) this.rateLimit = RateLimit.parse(settings.get("rateLimit"));
    if (settings.has("quotas")) this.quotas = Quotas.parse(settings.get("quotas"));
  }

  /** Admits an API request costing `cost` tokens (a batch costs one per item), or says when to retry. */
  takeApi(cost: number): ApiAllowance {
    const limit = this.rateLimit ?? DEFAULT_API_RATE_LIMIT;
    const now = Date.now();
    const exceedsBurst = cost > limit.burst;
    const result = exceedsBurst ? undefined : take(this.state.bucket(API_BUCKET, limit, now), limit, cost, now);
    if (result?.ok) this.state.setBucket(API_BUCKET, result.bucket);
    const { remaining, fullInSeconds } = standing(result?.bucket ?? this.state.bucket(API_BUCKET, limit, now), limit, now);
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
   * A send request's API token(s) and its quota charge in one call, the send path's only trip to
   * this object. Same rules as takeApi then chargeQuota: a refused token charges nothing; a
   * refused quota keeps the token taken (the request was read and planned). `requested` empty
   * (every row suppressed) charges nothing.
   */
  admitSend(cost: number, requested: Partial<Record<Channel, number>>): SendAdmission {
    const api = this.takeApi(cost);
    if (!api.ok) return { api, quota: null };
    return { api, quota: CHANNELS.some((c) => (requested[c] ?? 0) > 0) ? this.chargeQuota(requested) : null };
  }

  /**
   * One send through a provider config's bucket. `ticket` (the communication id) identifies the
   * sender: if the bucket is empty it books the next free slot for that ticket and returns the
   * wait; when the ticket comes back at its slot it goes without taking again. 0 means send now.
   */
  takeProvider(name: string, limit: RateLimit, ticket: string): number {
    const now = Date.now();
    const booked = this.state.booking(name, ticket);
    if (booked !== undefined) {
      if (booked - SLOT_GRACE_MS > now) return booked - now;
      this.state.unbook(name, ticket);
      return 0;
    }
    const bucket = this.state.bucket(name, limit, now);
    const taken = take(bucket, limit, 1, now);
    if (taken.ok) {
      this.state.setBucket(name, taken.bucket);
      return 0;
    }
    const slot = reserve(bucket, limit, now);
    this.state.setBucket(name, slot.bucket);
    this.state.book(name, ticket, Math.ceil(slot.at));
    return Math.max(1, Math.ceil(slot.at) - now);
  }

  /**
   * The provider answered 429: stop sending through it until its Retry-After has passed, then
   * resume at the sustained rate without the burst. Slots booked before are void (they would land
   * inside the pause); their messages book again when they come back.
   */
  slowProvider(name: string, limit: RateLimit, retryAfterSeconds: number | null): void {
    const now = Date.now();
    const cancelled = this.state.dropBookings(name);
    const seconds = retryAfterSeconds && retryAfterSeconds > 0 ? retryAfterSeconds : DEFAULT_PROVIDER_PAUSE_SECONDS;
    this.state.setBucket(name, pause(this.state.bucket(name, limit, now), limit, now, now + seconds * 1000, cancelled));
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
      const used = this.state.used(period.id, channel);
      if (quota !== null && used + requested[channel]! > quota) {
        return { ok: false, period: period.id, resetsAt: new Date(period.resetsAt).toISOString(), channel, quota, used, requested: requested[channel]! };
      }
    }
    for (const channel of wanted) this.state.addUsed(period.id, channel, requested[channel]!);
    return { ok: true, period: period.id };
  }

  /** Gives back sends counted by chargeQuota that were not stored after all. */
  refundQuota(period: string, counts: Partial<Record<Channel, number>>): void {
    for (const channel of CHANNELS) {
      const n = counts[channel] ?? 0;
      if (n > 0) this.state.addUsed(period, channel, -n);
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
      this.state.setSetting("rateLimit", patch.rateLimit ?? undefined);
    }
    if (patch.quotas !== undefined) {
      const merged: Quotas = { ...this.quotas, ...patch.quotas };
      for (const c of CHANNELS) if (merged[c] === null) delete merged[c];
      this.quotas = merged;
      this.state.setSetting("quotas", merged);
    }
    return this.limits();
  }

  private usageIn(period: string): ChannelUsage[] {
    return CHANNELS.map((channel) => {
      const used = this.state.used(period, channel);
      const quota = this.quotas[channel] ?? null;
      return { channel, used, quota, remaining: quota === null ? null : Math.max(0, quota - used) };
    });
  }
}
