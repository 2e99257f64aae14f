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

export const costStatements = (db: Db, c: CommunicationRow, cost: Cost | undefined): BatchItem<"sqlite">[] =>
  cost ? [addToCostStats(db, { tenantId: c.tenantId, day: dayOf(c.createdAt), channel: c.channel }, cost.currency, cost.micros)] : [];
