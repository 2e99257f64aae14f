/** Tenants and API keys. */
import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { apiKey, tenant, type TenantSettings } from "./schema";

export type TenantRow = typeof tenant.$inferSelect;
export type ApiKeyRow = typeof apiKey.$inferSelect;

export async function insertTenantWithKey(db: Db, t: typeof tenant.$inferInsert, key: ApiKeyRow) {
  await db.batch([db.insert(tenant).values(t), db.insert(apiKey).values(key)]);
}

export const getTenant = (db: Db, id: string) => db.select().from(tenant).where(eq(tenant.id, id)).get();

export const tenantSettings = (db: Db, id: string) => db.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, id));

/**
 * Control-plane writes move the version by themselves: triggers (migrations/0017) bump it in
 * the writing transaction. src/cache/tenant-config.ts compares it.
 */
export const configVersionOf = (db: Db, tenantId: string) =>
  db.select({ version: tenant.configVersion }).from(tenant).where(eq(tenant.id, tenantId));

/** What the per-isolate snapshot keeps of the tenant row. */
export const tenantConfig = (db: Db, tenantId: string) =>
  db.select({ settings: tenant.settings, version: tenant.configVersion }).from(tenant).where(eq(tenant.id, tenantId));

/**
 * Merges a change into the tenant's settings inside one UPDATE (RFC 7396 json_patch: objects merge
 * key by key, anything else replaces, null removes), so concurrent PATCHes never write back a
 * settings object another one has already changed. Every setting reads a missing key as null.
 */
export const mergeTenantSettings = (db: Db, id: string, change: Partial<TenantSettings>) =>
  db
    .update(tenant)
    .set({ settings: sql`json_patch(coalesce(${tenant.settings}, '{}'), ${JSON.stringify(change)})` })
    .where(eq(tenant.id, id))
    .returning({ settings: tenant.settings })
    .get();

export const insertApiKey = (db: Db, key: ApiKeyRow) => db.insert(apiKey).values(key);

export const listApiKeys = (db: Db, tenantId: string) =>
  db.select().from(apiKey).where(eq(apiKey.tenantId, tenantId)).orderBy(apiKey.createdAt).all();

export async function revokeApiKey(db: Db, tenantId: string, keyId: string, now: Date) {
  const rows = await db
    .update(apiKey)
    .set({ revokedAt: now })
    .where(and(eq(apiKey.id, keyId), eq(apiKey.tenantId, tenantId), isNull(apiKey.revokedAt)))
    .returning({ id: apiKey.id });
  return rows.length > 0;
}

/** The live key with this hash, if any: not revoked, not expired; with its tenant's config version. */
export const findActiveKeyByHash = (db: Db, hash: string, now: Date) =>
  db
    .select({ id: apiKey.id, tenantId: apiKey.tenantId, name: apiKey.name, scopes: apiKey.scopes, expiresAt: apiKey.expiresAt, configVersion: tenant.configVersion })
    .from(apiKey)
    .innerJoin(tenant, eq(tenant.id, apiKey.tenantId))
    .where(and(eq(apiKey.hash, hash), isNull(apiKey.revokedAt), or(isNull(apiKey.expiresAt), gt(apiKey.expiresAt, now))))
    .get();

export const getApiKey = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(apiKey)
    .where(and(eq(apiKey.tenantId, tenantId), eq(apiKey.id, id)))
    .get();

/** Issues the new key and shortens the old one's life to the overlap, in one transaction. */
export const rotateApiKey = (db: Db, fresh: ApiKeyRow, old: ApiKeyRow, oldExpiresAt: Date) =>
  db.batch([
    db.insert(apiKey).values(fresh),
    db.update(apiKey).set({ expiresAt: oldExpiresAt }).where(and(eq(apiKey.tenantId, old.tenantId), eq(apiKey.id, old.id))),
  ]);

export const touchApiKey = (db: Db, id: string, now: Date) => db.update(apiKey).set({ lastUsedAt: now }).where(eq(apiKey.id, id));

/** The tenant whose reply domain this is (unique index tenant_reply_domain), if any. */
export const tenantByReplyDomain = (db: Db, domain: string) =>
  db
    .select({ id: tenant.id })
    .from(tenant)
    .where(sql`json_extract(${tenant.settings}, '$.conversations.replyDomain') = ${domain.toLowerCase()}`)
    .get();
