/**
 * Operator routes: create tenants, manage their API keys (shown once), and read or change their
 * limits (API rate limit, monthly quotas), which live in the tenant's limiter object.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { adminAuth } from "../middleware/admin";
import { CreateKey, issueKey, keyDto, mintKey, revokeKey, RotateKey, rotateKey } from "../keys";
import { audit, recordAudit } from "../audit";
import { AuditQuery, auditPage } from "./audit-log";
import { jsonBody, queryOf } from "../validate";
import { tenantLimiter } from "../../durable/client";
import { Quotas, RateLimit } from "../../durable/limits";
import { getApiKey, getTenant, insertTenantWithKey, listApiKeys } from "../../db/tenants";
import { notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";

export const CreateTenant = z.object({ name: z.string().trim().min(1).max(200) }).strict();
/** `rateLimit: null` goes back to the default; a quota of null removes that channel's cap. */
export const UpdateTenant = z.object({ rateLimit: RateLimit.nullable().optional(), quotas: Quotas.optional() }).strict();

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
    return c.json(await issueKey(c, tenant.id, await jsonBody(c, CreateKey)), 201);
  })
  .post("/tenants/:id/api-keys/:keyId/rotate", async (c) => {
    const { overlapHours } = await jsonBody(c, RotateKey);
    const old = await getApiKey(c.var.db, c.req.param("id"), c.req.param("keyId"));
    if (!old || old.revokedAt) throw notFound("API key");
    return c.json(await rotateKey(c, old, overlapHours), 201);
  })
  .delete("/tenants/:id/api-keys/:keyId", async (c) => {
    if (!(await revokeKey(c, c.req.param("id"), c.req.param("keyId")))) throw notFound("API key");
    return c.body(null, 204);
  })
  .get("/tenants/:id/audit-log", async (c) => {
    const tenant = await getTenant(c.var.db, c.req.param("id"));
    if (!tenant) throw notFound("tenant");
    return c.json(await auditPage(c.var.db, tenant.id, queryOf(c, AuditQuery)));
  });
