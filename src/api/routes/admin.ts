/**
 * Operator routes: create tenants, manage their API keys (shown once), and read or change their
 * limits (API rate limit, monthly quotas), which live in the tenant's limiter object.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { adminAuth } from "../middleware/admin";
import { forgetApiKey } from "../middleware/api-key";
import { audit, recordAudit } from "../audit";
import { AuditQuery, auditPage } from "./audit-log";
import { jsonBody, queryOf } from "../validate";
import { tenantLimiter } from "../../durable/client";
import { Quotas, RateLimit } from "../../durable/limits";
import { getApiKey, getTenant, insertApiKey, insertTenantWithKey, listApiKeys, revokeApiKey, rotateApiKey, type ApiKeyRow } from "../../db/tenants";
import { Scope, SCOPES } from "../scopes";
import { sha256Hex } from "../../lib/crypto";
import { notFound } from "../../lib/errors";
import { newApiKey, uuidv7 } from "../../lib/ids";

export const CreateTenant = z.object({ name: z.string().trim().min(1).max(200) }).strict();
export const CreateKey = z
  .object({
    name: z.string().trim().min(1).max(100).default("default"),
    /** Least privilege: give a key only what its holder does. Default: full access. */
    scopes: z.array(Scope).min(1).max(SCOPES.length).default(["*"]),
    expiresInHours: z.number().positive().max(24 * 3650).optional(),
  })
  .strict();
export const RotateKey = z
  .object({ overlapHours: z.number().min(0).max(24 * 30).default(24) })
  .strict();
/** `rateLimit: null` goes back to the default; a quota of null removes that channel's cap. */
export const UpdateTenant = z.object({ rateLimit: RateLimit.nullable().optional(), quotas: Quotas.optional() }).strict();

async function mintKey(
  tenantId: string,
  name: string,
  now: Date,
  o: { scopes?: string[]; expiresAt?: Date | null } = {},
): Promise<{ row: ApiKeyRow; secret: string }> {
  const secret = newApiKey();
  return {
    secret,
    row: {
      id: uuidv7(),
      tenantId,
      name,
      prefix: secret.slice(0, 8),
      hash: await sha256Hex(secret),
      scopes: o.scopes ?? ["*"],
      createdAt: now,
      expiresAt: o.expiresAt ?? null,
      lastUsedAt: null,
      revokedAt: null,
    },
  };
}

const keyDto = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  createdAt: k.createdAt.toISOString(),
  expiresAt: k.expiresAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

export const admin = new Hono<AppEnv>()
  .use(adminAuth())
  .post("/tenants", async (c) => {
    const { name } = await jsonBody(c, CreateTenant);
    const now = new Date();
    const tenant = { id: uuidv7(), name, settings: null, createdAt: now };
    const key = await mintKey(tenant.id, "default", now);
    await insertTenantWithKey(c.var.db, tenant, key.row);
    await c.var.db.batch([
      audit(c, "tenant.created", { tenantId: tenant.id, resourceId: tenant.id }),
      audit(c, "key.created", { tenantId: tenant.id, resourceId: key.row.id, detail: { name: key.row.name, scopes: key.row.scopes } }),
    ]);
    return c.json({ tenant: { ...tenant, createdAt: now.toISOString() }, apiKey: key.secret, apiKeyId: key.row.id }, 201);
  })
  .get("/tenants/:id", async (c) => {
    const tenant = await getTenant(c.var.db, c.req.param("id"));
    if (!tenant) throw notFound("tenant");
    const [keys, limits] = await Promise.all([listApiKeys(c.var.db, tenant.id), tenantLimiter(c.env.LIMITER, tenant.id).limits()]);
    return c.json({ tenant: { ...tenant, createdAt: tenant.createdAt.toISOString() }, apiKeys: keys.map(keyDto), limits });
  })
  .patch("/tenants/:id", async (c) => {
    const tenant = await getTenant(c.var.db, c.req.param("id"));
    if (!tenant) throw notFound("tenant");
    const patch = await jsonBody(c, UpdateTenant);
    const limits = await tenantLimiter(c.env.LIMITER, tenant.id).configure(patch);
    await recordAudit(c, "tenant.limits_updated", { tenantId: tenant.id, resourceId: tenant.id, detail: { rateLimit: patch.rateLimit, quotas: patch.quotas } });
    return c.json({ tenantId: tenant.id, limits });
  })
  .post("/tenants/:id/api-keys", async (c) => {
    const tenant = await getTenant(c.var.db, c.req.param("id"));
    if (!tenant) throw notFound("tenant");
    const { name, scopes, expiresInHours } = await jsonBody(c, CreateKey);
    const now = new Date();
    const expiresAt = expiresInHours ? new Date(now.getTime() + expiresInHours * 3600_000) : null;
    const key = await mintKey(tenant.id, name, now, { scopes, expiresAt });
    await c.var.db.batch([
      insertApiKey(c.var.db, key.row),
      audit(c, "key.created", { tenantId: tenant.id, resourceId: key.row.id, detail: { name, scopes, expiresAt: expiresAt?.toISOString() ?? null } }),
    ]);
    return c.json({ ...keyDto(key.row), apiKey: key.secret }, 201);
  })
  .post("/tenants/:id/api-keys/:keyId/rotate", async (c) => {
    const { overlapHours } = await jsonBody(c, RotateKey);
    const old = await getApiKey(c.var.db, c.req.param("id"), c.req.param("keyId"));
    if (!old || old.revokedAt) throw notFound("API key");
    const now = new Date();
    // The new key keeps the old one's name, scopes and lifetime; the old one lives on for the overlap.
    const key = await mintKey(old.tenantId, old.name, now, { scopes: old.scopes, expiresAt: old.expiresAt });
    const overlapEnds = new Date(now.getTime() + overlapHours * 3600_000);
    await rotateApiKey(c.var.db, key.row, old, old.expiresAt && old.expiresAt < overlapEnds ? old.expiresAt : overlapEnds);
    forgetApiKey(old.id);
    await recordAudit(c, "key.rotated", { tenantId: old.tenantId, resourceId: old.id, detail: { name: old.name, newKeyId: key.row.id, overlapHours } });
    return c.json({ ...keyDto(key.row), apiKey: key.secret, replaces: { id: old.id, expiresAt: overlapEnds.toISOString() } }, 201);
  })
  .delete("/tenants/:id/api-keys/:keyId", async (c) => {
    const revoked = await revokeApiKey(c.var.db, c.req.param("id"), c.req.param("keyId"), new Date());
    forgetApiKey(c.req.param("keyId"));
    if (!revoked) throw notFound("API key");
    await recordAudit(c, "key.revoked", { tenantId: c.req.param("id"), resourceId: c.req.param("keyId") });
    return c.body(null, 204);
  })
  .get("/tenants/:id/audit-log", async (c) => {
    const tenant = await getTenant(c.var.db, c.req.param("id"));
    if (!tenant) throw notFound("tenant");
    return c.json(await auditPage(c.var.db, tenant.id, queryOf(c, AuditQuery)));
  });
