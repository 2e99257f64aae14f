/**
 * The one D1 round trip that opens a queue batch's delivery: claim every send in the batch (and
 * take back every communication a receipt check is about), and read what all of them need — the
 * tenants' providers and settings, the suppressions and preferences that apply to each
 * communication, and for push the recipient's devices. The claims come first in the same batch, so the reads after them see the
 * claims' result; the claims stay conditional, so a cancelled, already handled or concurrently
 * claimed communication is not returned and is not sent.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { claimDue, claimStates, IDS_PER_STATEMENT, type ClaimState, type CommunicationRow } from "../db/communications";
import { enabledProvidersOf, type ProviderConfigRow } from "../db/providers";
import { preferencesFor, type PreferenceRow } from "../db/preferences";
import { suppressionsFor, type SuppressionRow } from "../db/tracking";
import { settingsOf } from "../db/tenants";
import { acceptedDevicesFor, devicesFor, type DeviceRow } from "../db/devices";
import type { TenantSettings } from "../db/schema";
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
    tenants.map((part) => enabledProvidersOf(db, part)),
    tenants.map((part) => settingsOf(db, part)),
    ids.map((part) => suppressionsFor(db, part)),
    ids.map((part) => preferencesFor(db, part)),
    // Push only: the recipient's devices, and those a previous attempt already reached.
    ids.map((part) => devicesFor(db, part)),
    ids.map((part) => acceptedDevicesFor(db, part)),
  ];
  const statements = [...claims, ...reads.flat()];
  const results = statements.length ? ((await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[][]) : [];

  let at = claims.length;
  const take = <T>(n: number) => results.slice(at, (at += n)).flat() as T[];
  const states = take<ClaimState>(reads[0]!.length);
  const providers = take<ProviderConfigRow>(reads[1]!.length);
  const settings = take<{ id: string; settings: TenantSettings | null }>(reads[2]!.length);
  const suppressions = take<{ communicationId: string; suppression: SuppressionRow }>(reads[3]!.length);
  const preferences = take<{ communicationId: string; preference: PreferenceRow }>(reads[4]!.length);
  const devices = groupBy(take<{ communicationId: string; device: DeviceRow }>(reads[5]!.length), (d) => d.communicationId);
  const accepted = groupBy(take<PushContext["accepted"][number] & { communicationId: string }>(reads[6]!.length), (a) => a.communicationId);

  const claimed = new Map((results.slice(0, sendClaims).flat() as CommunicationRow[]).map((c) => [c.id, c]));
  const checked = checks.map((_, i) => (results[sendClaims + i] as CommunicationRow[])[0]);
  const settingsById = new Map(settings.map((s) => [s.id, s.settings]));
  // The joins match each suppression and preference to its communication's own tenant.
  const suppressionOf = new Map(suppressions.map((s) => [s.communicationId, s.suppression]));
  const preferenceOf = new Map(preferences.map((p) => [p.communicationId, p.preference]));
  return {
    claimed,
    checked,
    states: new Map(states.map((s) => [s.id, s])),
    contextOf: (c) => ({
      providers: providers.filter((p) => p.tenantId === c.tenantId && p.channel === c.channel),
      suppression: suppressionOf.get(c.id),
      settings: settingsById.get(c.tenantId),
      preference: preferenceOf.get(c.id),
      push: { devices: (devices.get(c.id) ?? []).map((d) => d.device), accepted: accepted.get(c.id) ?? [] },
    }),
  };
}
