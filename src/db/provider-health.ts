/**
 * Provider health for silent failover: a streak of missed receipts per provider config, the
 * breaker it opens, and the daily count shown in stats. A receipt from the provider resets it.
 */
import { and, eq, gte, lte, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { ProviderConfigRow } from "./providers";
import { providerConfig, providerStats } from "./schema";

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

/** A receipt came: the provider is talking again. */
export const resetSilence = (d1: D1Database, tenantId: string, configId: string) =>
  d1
    .prepare("UPDATE provider_config SET silent_streak = 0, breaker_open_until = NULL WHERE tenant_id = ?1 AND id = ?2 AND silent_streak > 0")
    .bind(tenantId, configId);

export const silentFailoversBetween = (db: Db, tenantId: string, startDay: string, endDay: string) =>
  db
    .select()
    .from(providerStats)
    .where(and(eq(providerStats.tenantId, tenantId), gte(providerStats.day, startDay), lte(providerStats.day, endDay)))
    .all();
