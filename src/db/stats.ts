/** Stats rollups: upserts that add to the day's counters, and the range query behind /stats. */
import { and, eq, gte, lte } from "drizzle-orm";
import type { Channel } from "../domain";
import type { Db } from "./client";
import { batchItem, inserter, Prepared, quote } from "./prepared";
import { communicationCostStats, communicationStats } from "./schema";

export const METRICS = ["accepted", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed", "cancelled"] as const;
export type Metric = (typeof METRICS)[number];
export type StatKey = { tenantId: string; day: string; channel: Channel; type: string };
export type StatDelta = Partial<Record<Metric | "sendLatencyMs" | "sendLatencyCount", number>>;

export const dayOf = (d: Date) => d.toISOString().slice(0, 10);

const COUNTERS = [...METRICS, "sendLatencyMs", "sendLatencyCount"] as const;

/** Adding a counter's zero is a no-op, so one text serves every delta (src/db/prepared.ts). */
const addSet = (names: string[]) => names.map((n) => `${quote(n)} = ${quote(n)} + excluded.${quote(n)}`).join(", ");
const statsInsert = inserter<typeof communicationStats.$inferInsert>(communicationStats);
const STATS_UPSERT =
  statsInsert.sql(1) +
  ` on conflict ("tenant_id", "day", "channel", "type") do update set ${addSet(COUNTERS.map((m) => communicationStats[m].name))}`;

export function addToStats(db: Db, key: StatKey, delta: StatDelta) {
  const values = Object.fromEntries(COUNTERS.map((m) => [m, delta[m] ?? 0]));
  return batchItem(new Prepared(db, STATS_UPSERT, statsInsert.params([{ ...key, ...values }])));
}

export function statsRows(db: Db, tenantId: string, startDay: string, endDay: string) {
  return db
    .select()
    .from(communicationStats)
    .where(and(eq(communicationStats.tenantId, tenantId), gte(communicationStats.day, startDay), lte(communicationStats.day, endDay)))
    .all();
}

/** Adds `priced` sends costing `micros` in all to the day's cost for their channel and currency. */
const costInsert = inserter<typeof communicationCostStats.$inferInsert>(communicationCostStats);
const COST_UPSERT = costInsert.sql(1) + ` on conflict ("tenant_id", "day", "channel", "currency") do update set ${addSet(["cost_micros", "priced"])}`;

export const addToCostStats = (db: Db, key: Omit<StatKey, "type">, currency: string, micros: number, priced = 1) =>
  batchItem(new Prepared(db, COST_UPSERT, costInsert.params([{ ...key, currency, costMicros: micros, priced }])));

export const costRows = (db: Db, tenantId: string, startDay: string, endDay: string) =>
  db
    .select()
    .from(communicationCostStats)
    .where(and(eq(communicationCostStats.tenantId, tenantId), gte(communicationCostStats.day, startDay), lte(communicationCostStats.day, endDay)))
    .all();
