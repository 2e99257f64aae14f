/**
 * Pricing a successful provider send: the config's price (its settings, else the default list
 * price) applied to the communication, stored on it and added to the day's cost rollup in the
 * same batch as the send's outcome. A failover after silence adds the second provider's cost.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import type { CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import { addToCostStats, dayOf } from "../db/stats";
import { costOf, priceFor, type Cost } from "../channels/pricing";
import { commonSettingsOf } from "../channels/settings";

export const sendCost = (config: ProviderConfigRow, c: CommunicationRow): Cost | undefined =>
  costOf(priceFor(config.provider, c.channel, commonSettingsOf(config.settings).price), c);

/** The communication's cost columns after this send (unchanged when it has no price). */
export function costPatch(c: CommunicationRow, cost: Cost | undefined): Partial<CommunicationRow> {
  if (!cost) return {};
  const before = c.costCurrency === cost.currency ? (c.costMicros ?? 0) : 0;
  return { costMicros: before + cost.micros, costCurrency: cost.currency };
}

/** A priced send waiting to be added to the day's cost rollup. */
export type CostEntry = { c: Pick<CommunicationRow, "tenantId" | "createdAt" | "channel">; cost: Cost };

/** One upsert per (tenant, day, channel, currency) however many sends a queue batch priced. */
export function costStatements(db: Db, entries: CostEntry[]): BatchItem<"sqlite">[] {
  const groups = new Map<string, { key: { tenantId: string; day: string; channel: CommunicationRow["channel"] }; currency: string; micros: number; priced: number }>();
  for (const { c, cost } of entries) {
    const key = { tenantId: c.tenantId, day: dayOf(c.createdAt), channel: c.channel };
    const id = `${key.tenantId}|${key.day}|${key.channel}|${cost.currency}`;
    const g = groups.get(id) ?? { key, currency: cost.currency, micros: 0, priced: 0 };
    g.micros += cost.micros;
    g.priced += 1;
    groups.set(id, g);
  }
  return [...groups.values()].map((g) => addToCostStats(db, g.key, g.currency, g.micros, g.priced));
}
