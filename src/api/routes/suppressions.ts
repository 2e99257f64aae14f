/** The tenant's suppression list: inspect it, add to it by hand, lift entries. */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { audit, recordAudit } from "../audit";
import { jsonBody, parseWith, queryOf } from "../validate";
import { maskContact } from "../../lib/mask";
import { deleteSuppression, listSuppressions, upsertSuppression, type SuppressionRow } from "../../db/tracking";
import { Channel } from "../../domain";
import { notFound } from "../../lib/errors";
import { SUPPRESSION_REASONS } from "../../channels/types";
import { normaliseContact } from "../../pipeline/send-request";

const contactFor = z
  .object({ channel: Channel, contact: z.string().min(1).max(320) })
  .transform((v, ctx) => {
    const n = normaliseContact(v.channel, v.contact);
    if (!n.ok) ctx.addIssue({ code: "custom", path: ["contact"], message: n.reason });
    return { channel: v.channel, contact: n.ok ? n.value : v.contact };
  });

export const AddSuppression = z
  .object({
    channel: Channel,
    contact: z.string().min(1).max(320),
    reason: z.enum(SUPPRESSION_REASONS).default("manual"),
    detail: z.string().max(500).optional(),
  })
  .strict();

export const SuppressionListQuery = z
  .object({
    channel: Channel.optional(),
    contact: z.string().optional(),
    page: z.coerce.number().int().min(1).default(1),
    size: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const suppressionDto = (s: SuppressionRow) => ({
  channel: s.channel,
  contact: s.contact,
  reason: s.reason,
  detail: s.detail,
  source: s.source,
  communicationId: s.communicationId,
  createdAt: s.createdAt.toISOString(),
});

export const suppressions = new Hono<AppEnv>()
  .get("/", async (c) => {
    const q = queryOf(c, SuppressionListQuery);
    const contact = q.channel && q.contact ? parseWith(contactFor, { channel: q.channel, contact: q.contact }).contact : q.contact;
    const rows = await listSuppressions(c.var.db, c.var.tenantId, { channel: q.channel, contact }, q.size, (q.page - 1) * q.size);
    return c.json({ results: rows.map(suppressionDto), page: q.page, size: q.size });
  })
  .post("/", async (c) => {
    const body = await jsonBody(c, AddSuppression);
    const { contact } = parseWith(contactFor, body);
    const row: SuppressionRow = {
      tenantId: c.var.tenantId,
      channel: body.channel,
      contact,
      reason: body.reason,
      detail: body.detail ?? null,
      source: "api",
      communicationId: null,
      createdAt: new Date(),
    };
    const masked = `${row.channel}:${maskContact(contact)}`;
    await c.var.db.batch([upsertSuppression(c.var.db, row), audit(c, "suppression.added", { resourceId: masked, detail: { reason: row.reason } })]);
    return c.json(suppressionDto(row), 201);
  })
  .delete("/:channel/:contact", async (c) => {
    const { channel, contact } = parseWith(contactFor, { channel: c.req.param("channel"), contact: c.req.param("contact") });
    if (!(await deleteSuppression(c.var.db, c.var.tenantId, channel, contact))) throw notFound("suppression");
    await recordAudit(c, "suppression.removed", { resourceId: `${channel}:${maskContact(contact)}` });
    return c.body(null, 204);
  });
