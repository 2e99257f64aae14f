/**
 * The one D1 round trip that opens a queue batch's delivery: claim every send in the batch (and
 * take back every communication a receipt check is about), and read what all of them need — the
 * suppressions and preferences that apply to each communication, for push the recipient's
 * devices, and the breaker columns of the tenants' enabled providers. The claims come first in the
 * same batch, so the reads after them see the claims' result; the claims stay conditional, so a
 * cancelled, already handled or concurrently claimed communication is not returned and is not sent.
 *
 * The tenants' settings and provider configs (credentials, settings, order) come from the
 * isolate's tenant config cache (src/cache/tenant-config.ts), so a warm batch reads no
 * control-plane rows. The breaker columns cannot come from there: delivery moves them all the
 * time and they never move the config version, so the snapshot's are as old as the snapshot.
 * They are read fresh with each config's edit stamp, which also tells the batch when its snapshot
 * no longer lists the configs D1 has enabled (one disabled, added or edited in another Worker):
 * then that tenant's snapshot is read again before anything is sent.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { claimDue, claimStates, IDS_PER_STATEMENT, type ClaimState, type CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import { breakersOf, type BreakerRow } from "../db/provider-health";
import { preferencesFor, type PreferenceRow } from "../db/preferences";
import { suppressionsFor, type SuppressionRow } from "../db/tracking";
import { acceptedDevicesFor, devicesFor, type DeviceRow } from "../db/devices";
import type { TenantSettings } from "../db/schema";
import { cachedProviderConfigs, cachedSettings, forgetTenantConfig } from "../cache/tenant-config";
import { chunk } from "../lib/chunk";
import type { DeliveryContext } from "./deliver";
import type { PushContext } from "./push-delivery";
import type { SendMessage } from "./queue-message";
import { claimForSilence } from "./silent-failover";

export type Check = SendMessage & { check: NonNullable<SendMessage["check"]> };

export type BatchContext = {
  /** Claimed for a send, by communication id. */
  claimed: Map<string, CommunicationRow>;
  /** Taken back for each receipt check, in the order given (undefined: nothing to do). */
  checked: (CommunicationRow | undefined)[];
  /** Where the sends that were not claimed stand, by communication id. */
  states: Map<string, ClaimState>;
  /** What a claimed communication's delivery needs, but the batch's breaker view. */
  contextOf(c: CommunicationRow): Omit<DeliveryContext, "health">;
};

const groupBy = <T>(items: T[], key: (t: T) => string) => {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
};

export async function claimAndLoad(db: Db, sends: SendMessage[], checks: Check[], now: Date): Promise<BatchContext> {
  const claims: BatchItem<"sqlite">[] = [];
  for (const [tenantId, group] of groupBy(sends, (m) => m.tenantId)) {
    for (const ids of chunk([...new Set(group.map((m) => m.communicationId))], IDS_PER_STATEMENT)) claims.push(claimDue(db, tenantId, ids, now));
  }
  const sendClaims = claims.length;
  for (const m of checks) claims.push(claimForSilence(db, m, now));

  const ids = chunk([...new Set([...sends, ...checks].map((m) => m.communicationId))], IDS_PER_STATEMENT);
  const sendIds = chunk([...new Set(sends.map((m) => m.communicationId))], IDS_PER_STATEMENT);
  const tenants = chunk([...new Set([...sends, ...checks].map((m) => m.tenantId))], IDS_PER_STATEMENT);
  const reads: BatchItem<"sqlite">[][] = [
    sendIds.map((part) => claimStates(db, part)),
    tenants.map((part) => breakersOf(db, part)),
    ids.map((part) => suppressionsFor(db, part)),
    ids.map((part) => preferencesFor(db, part)),
    // Push only: the recipient's devices, and those a previous attempt already reached.
    ids.map((part) => devicesFor(db, part)),
    ids.map((part) => acceptedDevicesFor(db, part)),
  ];
  const statements = [...claims, ...reads.flat()];
  // The snapshots first (from memory when warm): a cold load that fails must fail the batch
  // before its claims commit, or the claimed rows would sit in `sending` until the sweep.
  const tenantIds = tenants.flat();
  const cached = await Promise.all(tenantIds.map((t) => configOf(db, t)));
  const results = statements.length ? ((await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[][]) : [];

  let at = claims.length;
  const take = <T>(n: number) => results.slice(at, (at += n)).flat() as T[];
  const states = take<ClaimState>(reads[0]!.length);
  const breakers = take<BreakerRow>(reads[1]!.length);
  const suppressions = take<{ communicationId: string; suppression: SuppressionRow }>(reads[2]!.length);
  const preferences = take<{ communicationId: string; preference: PreferenceRow }>(reads[3]!.length);
  const devices = groupBy(take<{ communicationId: string; device: DeviceRow }>(reads[4]!.length), (d) => d.communicationId);
  const accepted = groupBy(take<PushContext["accepted"][number] & { communicationId: string }>(reads[5]!.length), (a) => a.communicationId);
  const breakersOfTenant = groupBy(breakers, (b) => b.tenantId);
  const config = new Map(
    await Promise.all(
      tenantIds.map(async (t, i) => {
        const fresh = breakersOfTenant.get(t) ?? [];
        // A snapshot that lists other configs than D1 has enabled now is read again, once. The
        // claims have committed by now: should that read fail, the old snapshot is used (less
        // what D1 no longer has enabled) rather than leave the claimed rows stranded.
        const current = sameConfigs(cached[i]!.providers, fresh) ? cached[i]! : await reread(db, t, cached[i]!);
        return [t, { settings: current.settings, providers: withBreakers(current.providers, fresh) }] as const;
      }),
    ),
  );

  const claimed = new Map((results.slice(0, sendClaims).flat() as CommunicationRow[]).map((c) => [c.id, c]));
  const checked = checks.map((_, i) => (results[sendClaims + i] as CommunicationRow[])[0]);
  // The joins match each suppression and preference to its communication's own tenant.
  const suppressionOf = new Map(suppressions.map((s) => [s.communicationId, s.suppression]));
  const preferenceOf = new Map(preferences.map((p) => [p.communicationId, p.preference]));
  return {
    claimed,
    checked,
    states: new Map(states.map((s) => [s.id, s])),
    contextOf: (c) => ({
      providers: (config.get(c.tenantId)?.providers ?? []).filter((p) => p.channel === c.channel),
      suppression: suppressionOf.get(c.id),
      settings: config.get(c.tenantId)?.settings,
      preference: preferenceOf.get(c.id),
      push: { devices: (devices.get(c.id) ?? []).map((d) => d.device), accepted: accepted.get(c.id) ?? [] },
    }),
  };
}

type TenantConfig = { settings: TenantSettings | null | undefined; providers: ProviderConfigRow[] };

const configOf = async (db: Db, tenantId: string): Promise<TenantConfig> => {
  const [settings, providers] = await Promise.all([cachedSettings(db, tenantId), cachedProviderConfigs(db, tenantId)]);
  return { settings, providers };
};

async function reread(db: Db, tenantId: string, stale: TenantConfig): Promise<TenantConfig> {
  forgetTenantConfig(tenantId);
  try {
    return await configOf(db, tenantId);
  } catch (error) {
    console.error(JSON.stringify({ msg: "re-reading a stale tenant config failed; delivering on the cached one", tenantId, error: String(error) }));
    return stale;
  }
}

/** Whether the snapshot holds exactly the enabled configs D1 has, each at the same edit. */
export function sameConfigs(snapshot: ProviderConfigRow[], fresh: BreakerRow[]): boolean {
  if (snapshot.length !== fresh.length) return false;
  const edited = new Map(snapshot.map((p) => [p.id, p.updatedAt.getTime()]));
  return fresh.every((b) => edited.get(b.id) === b.updatedAt.getTime());
}

/**
 * The snapshot's configs with the breaker as D1 has it now; a config no longer enabled is left
 * out (the snapshot is read again first, so this only covers a write racing that read).
 */
export function withBreakers(snapshot: ProviderConfigRow[], fresh: BreakerRow[]): ProviderConfigRow[] {
  const now = new Map(fresh.map((b) => [b.id, b]));
  return snapshot.flatMap((p) => {
    const b = now.get(p.id);
    return b ? [{ ...p, silentStreak: b.silentStreak, failureStreak: b.failureStreak, breakerOpenUntil: b.breakerOpenUntil }] : [];
  });
}
