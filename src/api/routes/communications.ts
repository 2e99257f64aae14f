/** Communication history, detail with its timeline, resend and cancel (seed §4.1). */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { communicationDto, storedStatuses, timelineDto } from "../dto";
import { optionalJson, parseWith, queryOf } from "../validate";
import { acceptContext } from "./send";
import { attachmentChecker, copyAttachments, orUnstash, storedKeys } from "../../pipeline/attachments";
import {
  getCommunication,
  listCommunications,
  listEvents,
  CANCELLABLE,
} from "../../db/communications";
import { Channel, PublicStatus } from "../../domain";
import { AppError, notFound } from "../../lib/errors";
import { buildPlanned, storeAndEnqueue } from "../../pipeline/accept";
import { withinQuota } from "../../durable/quota";
import { loadRecipients, planSend } from "../../pipeline/plan";
import { SendRequest } from "../../pipeline/send-request";
import { cancelOne } from "../../pipeline/cancel";

/** `YYYY-MM-DD` (a whole day) or an ISO date-time. */
const day = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const ListQuery = z
  .object({
    page: z.coerce.number().int().min(1).default(1),
    size: z.coerce.number().int().min(1).max(100).default(20),
    channel: Channel.optional(),
    status: PublicStatus.optional(),
    type: z.string().optional(),
    recipientId: z.string().optional(),
    /** Search by recipient: an id or an exact contact, as the history page's search box sends it. */
    recipient: z.string().trim().min(1).max(320).optional(),
    entityType: z.string().optional(),
    entityId: z.string().optional(),
    startDate: day.optional(),
    endDate: day.optional(),
  })
  .strict();

export const ResendRequest = z
  .object({ channel: Channel.optional(), recipientContact: z.string().min(1).max(320).optional() })
  .strict();

const endOfDay = (value: string) => (value.length === 10 ? new Date(`${value}T23:59:59.999Z`) : new Date(value));

export const communications = new Hono<AppEnv>()
  .get("/", async (c) => {
    const q = queryOf(c, ListQuery);
    const { results, count } = await listCommunications(
      c.var.db,
      c.var.tenantId,
      {
        ...q,
        statuses: q.status ? storedStatuses(q.status) : undefined,
        startDate: q.startDate ? new Date(q.startDate) : undefined,
        endDate: q.endDate ? endOfDay(q.endDate) : undefined,
      },
      q.page,
      q.size,
    );
    return c.json({ results: results.map(communicationDto), count, page: q.page, size: q.size });
  })
  .get("/:id", async (c) => {
    const { db, tenantId } = c.var;
    const row = await getCommunication(db, tenantId, c.req.param("id"));
    if (!row) throw notFound("communication");
    const events = await listEvents(db, tenantId, row.id);
    return c.json({ ...communicationDto(row), events: timelineDto(row, events) });
  })
  .post("/:id/resend", async (c) => {
    const { db, tenantId } = c.var;
    const original = await getCommunication(db, tenantId, c.req.param("id"));
    if (!original) throw notFound("communication");
    const overrides = await optionalJson(c, ResendRequest, {});
    const req = parseWith(
      SendRequest,
      Object.fromEntries(
        Object.entries({
          channel: overrides.channel ?? original.channel,
          type: original.type,
          recipientType: original.recipientType,
          recipientId: original.recipientId,
          recipientName: original.recipientName,
          recipientContact: overrides.recipientContact ?? original.recipientContact,
          subject: original.subject,
          content: original.content,
          entityType: original.entityType,
          entityId: original.entityId,
          priority: original.priority,
          metadata: original.metadata,
        }).filter(([, v]) => v !== null && v !== undefined),
      ),
    );
    const ctx = acceptContext(c);
    // A resend is a new send: today's preferences and quiet hours apply to it.
    const [planned] = planSend(req, await loadRecipients(db, ctx.secret, tenantId, [req]), ctx.now);
    // The copy carries the original's rendered content and the template version it came from.
    const { row, notes } = buildPlanned(ctx, planned!, {
      subject: original.subject,
      content: original.content,
      textContent: original.textContent,
      templateId: original.templateId,
      templateVersion: original.templateVersion,
      locale: original.locale,
    });
    row.originalCommunicationId = original.id;
    row.templateVariables = original.templateVariables;
    // The files as the original stored them (validated then); stored ones are copied for the copy.
    row.attachments = original.attachments;
    await attachmentChecker(db, row.tenantId)([row]);
    row.attachments = await copyAttachments(c.env.ATTACHMENTS, original.attachments, row);
    await orUnstash(c.env.ATTACHMENTS, storedKeys([row]), () => withinQuota(c.env.LIMITER, ctx.tenantId, [row], () => storeAndEnqueue(ctx, [row], notes)));
    return c.json({ id: row.id, originalCommunicationId: original.id, status: row.status }, 201);
  })
  .post("/:id/cancel", async (c) => {
    const { db, tenantId } = c.var;
    const cancelled = await cancelOne(c.env, db, tenantId, c.req.param("id"), { by: c.var.apiKeyId });
    if (!cancelled) {
      const row = await getCommunication(db, tenantId, c.req.param("id"));
      if (!row) throw notFound("communication");
      throw new AppError(
        "conflict",
        row.status === "sending"
          ? "the communication is being sent right now and can no longer be cancelled"
          : `a ${row.status} communication cannot be cancelled; only ${CANCELLABLE.join(" or ")} ones can`,
      );
    }
    return c.json(communicationDto(cancelled));
  });
