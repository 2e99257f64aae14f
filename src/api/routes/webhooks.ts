/**
 * The tenant's webhook endpoints: register a URL and the event types it wants, see what was
 * delivered, replay a delivery. The signing secret is shown once, at creation.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { fieldsOf, recordAudit } from "../audit";
import { jsonBody, queryOf } from "../validate";
import {
  deleteEndpoint,
  getDelivery,
  getEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  updateDelivery,
  updateEndpoint,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "../../db/webhooks";
import { seal } from "../../lib/crypto";
import { AppError, notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { newWebhookSecret } from "../../lib/standard-webhooks";
import { unsafeUrlReason } from "../../lib/url-guard";
import { endpointSecretAad, EVENT_TYPES } from "../../pipeline/tenant-webhooks";

const EventType = z.enum(["*", ...EVENT_TYPES] as [string, ...string[]]);

export const CreateEndpoint = z
  .object({
    url: z.string().max(2000),
    eventTypes: z.array(EventType).min(1).default(["*"]),
    description: z.string().max(500).optional(),
    enabled: z.boolean().default(true),
  })
  .strict();

export const UpdateEndpoint = z
  .object({
    url: z.string().max(2000).optional(),
    eventTypes: z.array(EventType).min(1).optional(),
    description: z.string().max(500).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const DeliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();

export const endpointDto = (e: WebhookEndpointRow) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  eventTypes: e.eventTypes,
  enabled: e.enabled,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

export const deliveryDto = (d: WebhookDeliveryRow) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  payload: JSON.parse(d.payload) as unknown,
  /** "erased" (recipient erasure) or "expired" (retention) once the payload is a stub. */
  redacted: d.redacted,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

/** Local development (ALLOW_LOOPBACK_URLS) may call receivers on loopback; nothing may call private networks. */
function checkUrl(url: string, allowLoopback: boolean) {
  const reason = unsafeUrlReason(url, allowLoopback);
  if (reason) throw new AppError("validation_failed", `url ${reason}`, [{ field: "url", message: reason }]);
}

export const webhooks = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateEndpoint);
    const { db, tenantId, config } = c.var;
    checkUrl(body.url, config.allowLoopbackUrls);
    const now = new Date();
    const id = uuidv7();
    const secret = newWebhookSecret();
    const row: WebhookEndpointRow = {
      id,
      tenantId,
      url: body.url,
      description: body.description ?? null,
      eventTypes: body.eventTypes,
      secret: await seal(config.encryptionKey, tenantId, secret, endpointSecretAad(tenantId, id)),
      enabled: body.enabled,
      createdAt: now,
      updatedAt: now,
    };
    await insertEndpoint(db, row);
    // The host only: a receiver's URL may carry its own token in the path or query.
    await recordAudit(c, "webhook.created", { resourceId: id, detail: { host: new URL(row.url).host, eventTypes: row.eventTypes } });
    return c.json({ ...endpointDto(row), secret }, 201);
  })
  .get("/", async (c) => c.json({ results: (await listEndpoints(c.var.db, c.var.tenantId)).map(endpointDto) }))
  .get("/:id", async (c) => {
    const e = await getEndpoint(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!e) throw notFound("webhook endpoint");
    return c.json(endpointDto(e));
  })
  .patch("/:id", async (c) => {
    const { db, tenantId, config } = c.var;
    if (!(await getEndpoint(db, tenantId, c.req.param("id")))) throw notFound("webhook endpoint");
    const body = await jsonBody(c, UpdateEndpoint);
    if (body.url !== undefined) checkUrl(body.url, config.allowLoopbackUrls);
    const patch: Partial<WebhookEndpointRow> = { updatedAt: new Date() };
    if (body.url !== undefined) patch.url = body.url;
    if (body.eventTypes !== undefined) patch.eventTypes = body.eventTypes;
    if (body.description !== undefined) patch.description = body.description;
    if (body.enabled !== undefined) patch.enabled = body.enabled;
    const e = await updateEndpoint(db, tenantId, c.req.param("id"), patch);
    if (!e) throw notFound("webhook endpoint");
    await recordAudit(c, "webhook.updated", { resourceId: e.id, detail: { fields: fieldsOf(body) } });
    return c.json(endpointDto(e));
  })
  .delete("/:id", async (c) => {
    if (!(await deleteEndpoint(c.var.db, c.var.tenantId, c.req.param("id")))) throw notFound("webhook endpoint");
    await recordAudit(c, "webhook.deleted", { resourceId: c.req.param("id") });
    return c.body(null, 204);
  })
  .get("/:id/deliveries", async (c) => {
    const { limit } = queryOf(c, DeliveriesQuery);
    const e = await getEndpoint(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!e) throw notFound("webhook endpoint");
    return c.json({ results: (await listDeliveries(c.var.db, c.var.tenantId, e.id, limit)).map(deliveryDto) });
  })
  .post("/:id/deliveries/:deliveryId/replay", async (c) => {
    const { db, tenantId } = c.var;
    const d = await getDelivery(db, tenantId, c.req.param("deliveryId"));
    if (!d || d.endpointId !== c.req.param("id")) throw notFound("webhook delivery");
    // Sending the stub would tell the receiver nothing, under the real event's webhook-id.
    if (d.redacted) throw new AppError("conflict", d.redacted === "erased" ? "webhook delivery payload was erased with its recipient; it cannot be replayed" : "webhook delivery payload was removed by the retention policy; it cannot be replayed");
    const replayed = await updateDelivery(db, tenantId, d.id, { status: "pending", attempts: 0, updatedAt: new Date() });
    await c.env.EVENT_QUEUE.send({ kind: "delivery", tenantId, deliveryId: d.id });
    return c.json(deliveryDto(replayed!), 202);
  });
