/** Stats rollups: upserts that add to the day's counters, and the range query behind /stats. */
import { and, eq, gte, lte, sql } from "drizzle-orm";
import type { Channel } from "../domain";
import type { Db } from "./client";
import { communicationCostStats, communicationStats } from "./schema";

export const METRICS = ["accepted", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed", "cancelled"] as const;
export type Metric = (typeof METRICS)[number];
export type StatKey = { tenantId: string; day: string; channel: Channel; type: string };
export type StatDelta = Partial<Record<Metric | "sendLatencyMs" | "sendLatencyCount", number>>;

export const dayOf = (d: Date) => d.toISOString().slice(0, 10);

const COUNTERS = [...METRICS, "sendLatencyMs", "sendLatencyCount"] as const;

export function addToStats(db: Db, key: StatKey, delta: StatDelta) {
  const values = Object.fromEntries(COUNTERS.map((m) => [m, delta[m] ?? 0]));
  const set = Object.fromEntries(
    COUNTERS.filter((m) => delta[m]).map((m) => [m, sql`${communicationStats[m]} + ${delta[m]}`]),
  );
  return db
    .insert(communicationStats)
    .values({ ...key, ...values })
    .onConflictDoUpdate({ target: [communicationStats.tenantId, communicationStats.day, communicationStats.channel, communicationStats.type], set });
}

export function statsRows(db: Db, tenantId: string, startDay: string, endDay: string) {
  return db
    .select()
    .from(communicationStats)
    .where(and(eq(communicationStats.tenantId, tenantId), gte(communicationStats.day, startDay), lte(communicationStats.day, endDay)))
    .all();
}

/** Adds `priced` sends costing `micros` in all to the day's cost for their channel and currency. */
export const addToCostStats = (db: Db, key: Omit<StatKey, "type">, currency: string, micros: number, priced = 1) =>
  db
    .insert(communicationCostStats)
    .values({ ...key, currency, costMicros: micros, priced })
    .onConflictDoUpdate({
      target: [communicationCostStats.tenantId, communicationCostStats.day, communicationCostStats.channel, communicationCostStats.currency],
      set: { costMicros: sql`${communicationCostStats.costMicros} + ${micros}`, priced: sql`${communicationCostStats.priced} + ${priced}` },
    });

export const costRows = (db: Db, tenantId: string, startDay: string, endDay: string) =>
  db
    .select()
    .from(communicationCostStats)
    .where(and(eq(communicationCostStats.tenantId, tenantId), gte(communicationCostStats.day, startDay), lte(communicationCostStats.day, endDay)))
    .all();
