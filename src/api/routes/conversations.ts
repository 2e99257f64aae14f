/**
 * Two-way conversations (issue 20): threads of inbound messages and the tenant's in-thread
 * replies. `GET /api/conversations` lists threads by latest activity (cursor paged);
 * `/:id/messages` reads a thread oldest first; `/:id/read` clears its unread count; `/:id/reply`
 * sends through the normal pipeline (src/conversations/send.ts);
 * `/:id/messages/:messageId/media/:n` downloads a message's stored medium (src/conversations/media.ts). WhatsApp only allows free text
 * within 24 hours of the customer's last message: outside that window a reply must name a
 * template, and one that does not is a 422 naming `templateCode`. An email reply names the
 * customer's last message (In-Reply-To); a Slack reply goes into the Slack thread the customer
 * last wrote in, if they wrote in one.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { admitted } from "../admission";
import { communicationDto, iso } from "../dto";
import { jsonBody, queryOf } from "../validate";
import { acceptContext } from "./send";
import { getMessage, getThread, lastInboundReference, listMessages, listThreads, markRead, touchThread, type ConversationMessageRow, type ConversationRow } from "../../db/conversations";
import { Channel } from "../../domain";
import { AppError, notFound } from "../../lib/errors";
import { storeAndEnqueue } from "../../pipeline/accept";
import { WhatsappTemplate } from "../../channels/whatsapp/template";
import { prepareThreadSend } from "../../conversations/send";
import { mediaDto } from "../../conversations/media";
import { slackThreadOf } from "../../channels/slack/slack-inbound";

/** WhatsApp's customer-service window, from the customer's last message. */
export const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000;

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug");

export const ConversationListQuery = z
  .object({
    channel: Channel.optional(),
    recipientType: z.string().max(64).optional(),
    recipientId: z.string().max(255).optional(),
    unread: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
    updatedSince: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

export const MessageListQuery = z.object({ cursor: z.string().max(64).optional(), limit: z.coerce.number().int().min(1).max(200).default(100) }).strict();

export const ReplyRequest = z
  .object({
    content: z.string().min(1).optional(),
    templateCode: slug.optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    subject: z.string().min(1).max(500).optional(),
    /** WhatsApp: the approved template (at Meta) to send outside the 24-hour window. */
    whatsappTemplate: WhatsappTemplate.optional(),
  })
  .strict()
  .refine((r) => !!r.content !== !!r.templateCode, { message: "give content or templateCode, not both", path: ["content"] });

export const conversationDto = (t: ConversationRow, now = Date.now()) => ({
  id: t.id,
  channel: t.channel,
  contact: t.contact,
  ourAddress: t.ourAddress,
  recipientType: t.recipientType,
  recipientId: t.recipientId,
  communicationId: t.communicationId,
  unreadCount: t.unreadCount,
  lastInboundAt: iso(t.lastInboundAt),
  lastMessageAt: iso(t.lastMessageAt),
  ...(t.channel === "whatsapp" ? { windowOpenUntil: t.lastInboundAt && t.lastInboundAt.getTime() + WHATSAPP_WINDOW_MS > now ? new Date(t.lastInboundAt.getTime() + WHATSAPP_WINDOW_MS).toISOString() : null } : {}),
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

export const messageDto = (m: ConversationMessageRow) => ({
  id: m.id,
  conversationId: m.conversationId,
  direction: m.direction === "in" ? "inbound" : "outbound",
  text: m.text,
  subject: m.subject,
  button: m.button,
  media: mediaDto(m.conversationId, m.id, m.media),
  keyword: m.keyword,
  communicationId: m.communicationId,
  inReplyToCommunicationId: m.inReplyToCommunicationId,
  providerMessageId: m.providerMessageId,
  at: iso(m.at),
});

const encodeCursor = (t: ConversationRow) => btoa(`${t.updatedAt.getTime()}:${t.id}`);
function decodeCursor(raw: string) {
  const m = /^(\d{1,15}):([0-9a-f-]{36})$/.exec((() => { try { return atob(raw); } catch { return ""; } })());
  if (!m) throw new AppError("validation_failed", "invalid cursor", [{ field: "cursor", message: "must be a nextCursor from a previous page" }]);
  return { updatedAt: new Date(Number(m[1])), id: m[2]! };
}

async function thread(c: { var: AppEnv["Variables"] }, id: string) {
  const row = await getThread(c.var.db, c.var.tenantId, id);
  if (!row) throw notFound("conversation");
  return row;
}

export const conversations = new Hono<AppEnv>()
  .get("/", async (c) => {
    const q = queryOf(c, ConversationListQuery);
    const rows = await listThreads(
      c.var.db,
      c.var.tenantId,
      { ...q, updatedSince: q.updatedSince ? new Date(q.updatedSince) : undefined, before: q.cursor ? decodeCursor(q.cursor) : undefined },
      q.limit + 1,
    );
    const page = rows.slice(0, q.limit);
    return c.json({ results: page.map((t) => conversationDto(t)), nextCursor: rows.length > q.limit ? encodeCursor(page.at(-1)!) : null });
  })
  .get("/:id", async (c) => c.json(conversationDto(await thread(c, c.req.param("id")))))
  .get("/:id/messages", async (c) => {
    const q = queryOf(c, MessageListQuery);
    const t = await thread(c, c.req.param("id"));
    const rows = await listMessages(c.var.db, c.var.tenantId, t.id, q.cursor, q.limit + 1);
    const page = rows.slice(0, q.limit);
    return c.json({ results: page.map(messageDto), nextCursor: rows.length > q.limit ? page.at(-1)!.id : null });
  })
  .get("/:id/messages/:messageId/media/:n", async (c) => {
    const t = await thread(c, c.req.param("id"));
    const n = c.req.param("n");
    if (!/^\d{1,2}$/.test(n)) throw new AppError("validation_failed", "invalid media index", [{ field: "n", message: "must be the medium's index in the message's media list" }]);
    const message = await getMessage(c.var.db, c.var.tenantId, t.id, c.req.param("messageId"));
    const item = message?.media?.[Number(n)];
    if (!item) throw notFound("media");
    if (!item.key) throw new AppError("not_found", `media not stored${item.pending ? " yet: it is still being fetched from the provider" : item.error ? `: ${item.error}` : ": the provider's reference is kept in url"}`);
    const object = await c.env.ATTACHMENTS.get(item.key);
    if (!object) throw notFound("media");
    const filename = item.filename ? `; filename*=UTF-8''${encodeURIComponent(item.filename)}` : "";
    // A download, never rendered on the API's origin: what a customer sent could be HTML or SVG.
    return new Response(object.body, {
      headers: {
        "content-type": item.contentType,
        "content-length": String(object.size),
        "content-disposition": `attachment${filename}`,
        "x-content-type-options": "nosniff",
        "cache-control": "private, no-store",
      },
    });
  })
  .post("/:id/read", async (c) => {
    await thread(c, c.req.param("id"));
    const row = await markRead(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!row) throw notFound("conversation");
    return c.json(conversationDto(row));
  })
  .post("/:id/reply", async (c) => {
    const body = await jsonBody(c, ReplyRequest);
    const t = await thread(c, c.req.param("id"));
    const ctx = acceptContext(c);
    if (t.channel === "whatsapp" && !body.templateCode && !body.whatsappTemplate) {
      const open = t.lastInboundAt !== null && ctx.now.getTime() - t.lastInboundAt.getTime() < WHATSAPP_WINDOW_MS;
      if (!open) {
        const message = "outside WhatsApp's 24-hour customer-service window (from the customer's last message): free-form text cannot be sent; reply with templateCode (a template with a WhatsApp approved template) or whatsappTemplate";
        throw new AppError("validation_failed", message, [{ field: "templateCode", message: "required outside WhatsApp's 24-hour window" }]);
      }
    }
    let subject = body.subject;
    let inReplyTo: string | undefined;
    let vendor: Record<string, unknown> | undefined;
    if (t.channel === "email") {
      const last = await lastInboundReference(c.var.db, c.var.tenantId, t.id);
      inReplyTo = last?.providerMessageId ?? undefined;
      subject ??= last?.subject ? (/^re:/i.test(last.subject) ? last.subject : `Re: ${last.subject}`) : body.templateCode ? undefined : "Re:";
    } else if (t.channel === "slack") {
      // A customer who wrote in a Slack thread is answered in that thread.
      const threadTs = slackThreadOf((await lastInboundReference(c.var.db, c.var.tenantId, t.id))?.inReplyTo);
      if (threadTs) vendor = { thread_ts: threadTs };
    }
    const prepared = await prepareThreadSend(ctx, t, { ...body, subject, inReplyTo, vendor });
    const [row] = prepared.rows;
    if (!row) throw new AppError("validation_failed", "the reply produced no message", [{ field: "content", message: "nothing to send" }]);
    await admitted(c, prepared.rows, () => storeAndEnqueue(ctx, prepared.rows, [...prepared.statements, touchThread(c.var.db, c.var.tenantId, t.id, ctx.now)], prepared.followUps));
    return c.json({ conversationId: t.id, communication: communicationDto(row), ...(row.status === "suppressed" ? { reason: row.errorMessage } : {}) }, 201);
  });
