/** Provider configurations, always filtered by tenant. */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "./client";
import { providerConfig } from "./schema";

export type ProviderConfigRow = typeof providerConfig.$inferSelect;

export const insertProviderConfig = (db: Db, row: ProviderConfigRow) => db.insert(providerConfig).values(row).run();

export const listProviderConfigs = (db: Db, tenantId: string) =>
  db
    .select()
    .from(providerConfig)
    .where(eq(providerConfig.tenantId, tenantId))
    .orderBy(asc(providerConfig.channel), asc(providerConfig.priority))
    .all();

export const getProviderConfig = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(providerConfig)
    .where(and(eq(providerConfig.tenantId, tenantId), eq(providerConfig.id, id)))
    .get();

/**
 * The update only if the config is still the version stamped `readAt` (src/lib/compare-and-set.ts).
 * Health counters (src/db/provider-health.ts) leave the stamp alone, so only config edits contend.
 */
export const updateProviderConfigIfUnchanged = (db: Db, tenantId: string, id: string, readAt: Date, patch: Partial<ProviderConfigRow>) =>
  db
    .update(providerConfig)
    .set(patch)
    .where(and(eq(providerConfig.tenantId, tenantId), eq(providerConfig.id, id), eq(providerConfig.updatedAt, readAt)))
    .returning()
    .get();

export async function deleteProviderConfig(db: Db, tenantId: string, id: string) {
  const rows = await db
    .delete(providerConfig)
    .where(and(eq(providerConfig.tenantId, tenantId), eq(providerConfig.id, id)))
    .returning({ id: providerConfig.id });
  return rows.length > 0;
}

/** Every enabled config of the tenant, each channel's in failover order (the per-isolate snapshot). */
export const enabledProviderConfigs = (db: Db, tenantId: string) =>
  db
    .select()
    .from(providerConfig)
    .where(and(eq(providerConfig.tenantId, tenantId), eq(providerConfig.enabled, true)))
    .orderBy(asc(providerConfig.channel), asc(providerConfig.priority), asc(providerConfig.createdAt));

/** The channels with at least one enabled provider. */
export const channelsWithProviders = (db: Db, tenantId: string) =>
  db
    .selectDistinct({ channel: providerConfig.channel })
    .from(providerConfig)
    .where(and(eq(providerConfig.tenantId, tenantId), eq(providerConfig.enabled, true)));

/**
 * The one look-up not scoped by tenant: a provider's webhook names only the config id in its URL.
 * The caller must verify the request's signature with this config's secrets before trusting it.
 */
export const providerConfigForWebhook = (db: Db, id: string) => db.select().from(providerConfig).where(eq(providerConfig.id, id)).get();

/** The tenant's configs by id (inbound media is fetched with the credentials of the config that received it). */
export const providerConfigsByIds = (db: Db, tenantId: string, ids: string[]) =>
  db.select().from(providerConfig).where(and(eq(providerConfig.tenantId, tenantId), inArray(providerConfig.id, ids))).all();
