/**
 * Provider health per tenant provider config: a streak of missed receipts (silent failover) and a
 * streak of failed calls (outages), either of which opens the breaker that puts the provider last
 * in failover order for a while; and the daily silent-failover count shown in stats. A receipt
 * resets the first streak, an accepted send the second.
 */
import { and, eq, gt, gte, inArray, lte, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { ProviderConfigRow } from "./providers";
import { providerConfig, providerStats } from "./schema";

/**
 * What a queue batch reads fresh about these tenants' enabled configs: the breaker columns (which
 * delivery moves all the time, so a cached snapshot's are stale) and, per row, the edit stamp, so
 * the batch can tell whether its cached snapshot still has the same configs (batch-context.ts).
 */
export const breakersOf = (db: Db, tenantIds: string[]) =>
  db
    .select({
      id: providerConfig.id,
      tenantId: providerConfig.tenantId,
      updatedAt: providerConfig.updatedAt,
      silentStreak: providerConfig.silentStreak,
      failureStreak: providerConfig.failureStreak,
      breakerOpenUntil: providerConfig.breakerOpenUntil,
    })
    .from(providerConfig)
    .where(and(inArray(providerConfig.tenantId, tenantIds), eq(providerConfig.enabled, true)));

export type BreakerRow = Pick<ProviderConfigRow, "id" | "tenantId" | "updatedAt" | "silentStreak" | "failureStreak" | "breakerOpenUntil">;

export function countSilence(db: Db, o: { tenantId: string; day: string; config: ProviderConfigRow; threshold: number; openUntil: Date }) {
  return [
    db
      .update(providerConfig)
      .set({
        silentStreak: sql`${providerConfig.silentStreak} + 1`,
        breakerOpenUntil: sql`CASE WHEN ${providerConfig.silentStreak} + 1 >= ${o.threshold} THEN ${o.openUntil.getTime()} ELSE ${providerConfig.breakerOpenUntil} END`,
      })
      .where(and(eq(providerConfig.tenantId, o.tenantId), eq(providerConfig.id, o.config.id))),
    db
      .insert(providerStats)
      .values({ tenantId: o.tenantId, day: o.day, providerConfigId: o.config.id, provider: o.config.provider, silentFailovers: 1 })
      .onConflictDoUpdate({
        target: [providerStats.tenantId, providerStats.day, providerStats.providerConfigId],
        set: { silentFailovers: sql`${providerStats.silentFailovers} + 1` },
      }),
  ];
}

/**
 * A receipt came: the provider is talking again. The breaker stays open while calls are failing
 * (a provider can report old messages delivered while refusing new ones); the next accepted send
 * or the end of the cool-down closes it then.
 */
export const resetSilence = (d1: D1Database, tenantId: string, configId: string) =>
  d1
    .prepare(
      "UPDATE provider_config SET silent_streak = 0, breaker_open_until = CASE WHEN failure_streak > 0 THEN breaker_open_until ELSE NULL END WHERE tenant_id = ?1 AND id = ?2 AND silent_streak > 0",
    )
    .bind(tenantId, configId);

/** A failed call: one more in the streak; at the threshold the breaker opens (or, half-open, opens again). */
export const countFailure = (db: Db, o: { tenantId: string; config: ProviderConfigRow; threshold: number; openUntil: Date }) =>
  db
    .update(providerConfig)
    .set({
      failureStreak: sql`${providerConfig.failureStreak} + 1`,
      breakerOpenUntil: sql`CASE WHEN ${providerConfig.failureStreak} + 1 >= ${o.threshold} THEN ${o.openUntil.getTime()} ELSE ${providerConfig.breakerOpenUntil} END`,
    })
    .where(and(eq(providerConfig.tenantId, o.tenantId), eq(providerConfig.id, o.config.id)));

/** An accepted send closes a breaker that failures opened (not one that silence opened). */
export const resetFailures = (db: Db, tenantId: string, config: ProviderConfigRow, silenceThreshold: number) =>
  db
    .update(providerConfig)
    .set({
      failureStreak: 0,
      breakerOpenUntil: sql`CASE WHEN ${providerConfig.silentStreak} >= ${silenceThreshold} THEN ${providerConfig.breakerOpenUntil} ELSE NULL END`,
    })
    .where(and(eq(providerConfig.tenantId, tenantId), eq(providerConfig.id, config.id), gt(providerConfig.failureStreak, 0)));

export const silentFailoversBetween = (db: Db, tenantId: string, startDay: string, endDay: string) =>
  db
    .select()
    .from(providerStats)
    .where(and(eq(providerStats.tenantId, tenantId), gte(providerStats.day, startDay), lte(providerStats.day, endDay)))
    .all();
