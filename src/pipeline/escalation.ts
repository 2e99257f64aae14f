/**
 * Channel escalation (issue 7): "in-app, then SMS if it is not read within ten minutes". A send
 * with `fallback` leaves a delayed message on the send queue. When it fires, it does nothing if the
 * communication got where it had to (delivered, or opened). Otherwise a new communication goes out
 * on the fallback channel, planned and rendered like any send, linked to the first one. Its id is
 * derived from the original's, so a duplicate firing cannot escalate twice.
 */
import { htmlToText, looksLikeHtml } from "../channels/email/content";
import type { Db } from "../db/client";
import { isUniqueViolation } from "../db/client";
import { eventRow, getCommunication, insertEvent, type CommunicationRow } from "../db/communications";
import type { Channel, CommunicationStatus } from "../domain";
import { sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { templateById } from "../templates/catalog";
import { MAX_QUEUE_DELAY_SECONDS, type SendMessage } from "./queue-message";
import { enqueueSends, laneOf } from "./send-lanes";
import { buildPlanned, storeAndEnqueue, type AcceptContext } from "./accept";
import { withinQuota } from "../durable/quota";
import type { LimiterNamespace } from "../durable/client";
import { loadRecipients, planSend } from "./plan";
import { SendRequest } from "./send-request";
import { contentResolver } from "./template-content";

type Escalate = NonNullable<SendMessage["escalate"]>;

const REACHED: Record<Escalate["until"], CommunicationStatus[]> = {
  delivered: ["delivered", "opened", "clicked"],
  opened: ["opened", "clicked"],
};

/** The delayed message that may escalate `row`. */
export const escalationMessage = (row: CommunicationRow, f: NonNullable<SendRequest["fallback"]>) => ({
  body: { v: 1 as const, tenantId: row.tenantId, communicationId: row.id, escalate: { ...f } },
  delaySeconds: Math.min(f.afterSeconds, MAX_QUEUE_DELAY_SECONDS),
});

/** A stable uuid-shaped id for the escalation of `originalId`. */
async function escalationId(originalId: string) {
  const h = await sha256Hex(`${originalId}:escalation`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** What the fallback send says: the same template rendered for its channel, or the same text. */
async function fallbackRequest(db: Db, o: CommunicationRow, e: Escalate) {
  const template = o.templateId ? await templateById(db, o.tenantId, o.templateId) : undefined;
  const plain = o.channel === "email" && looksLikeHtml(o.content) ? await htmlToText(o.content) : o.content;
  return SendRequest.safeParse({
    channel: e.channel,
    type: o.type,
    recipientType: o.recipientType,
    ...(o.recipientId ? { recipientId: o.recipientId } : {}),
    ...(e.recipientContact ? { recipientContact: e.recipientContact } : {}),
    ...(template ? { templateCode: template.code, templateVariables: o.templateVariables ?? {} } : { content: plain }),
    ...(o.subject ? { subject: o.subject } : {}),
    ...(o.locale ? { locale: o.locale } : {}),
    ...(o.entityType ? { entityType: o.entityType } : {}),
    ...(o.entityId ? { entityId: o.entityId } : {}),
    priority: o.priority,
    ...(o.metadata ? { metadata: o.metadata } : {}),
  });
}

export async function escalate(ctx: AcceptContext, msg: SendMessage & { escalate: Escalate }, limiter: LimiterNamespace): Promise<void> {
  const original = await getCommunication(ctx.db, msg.tenantId, msg.communicationId);
  if (!original || original.status === "cancelled" || REACHED[msg.escalate.until].includes(original.status)) return;
  if (original.status === "scheduled" && original.scheduledAt && original.scheduledAt > ctx.now) {
    // Still held (quiet hours, a later send time): the clock starts when it goes out.
    const wait = Math.ceil((original.scheduledAt.getTime() - ctx.now.getTime()) / 1000) + msg.escalate.afterSeconds;
    await enqueueSends(ctx.queue, [{ lane: laneOf(original), body: { ...msg }, delaySeconds: Math.min(wait, MAX_QUEUE_DELAY_SECONDS) }]);
    return;
  }
  const note = (error: string, detail: Record<string, unknown> = {}) =>
    insertEvent(ctx.db, eventRow({ tenantId: original.tenantId, communicationId: original.id, kind: "note", error, detail, createdAt: ctx.now }));
  const why = `not ${msg.escalate.until} within ${msg.escalate.afterSeconds} s`;

  const req = await fallbackRequest(ctx.db, original, msg.escalate);
  try {
    if (!req.success) throw new AppError("validation_failed", req.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const [planned] = planSend(req.data, await loadRecipients(ctx.db, ctx.secret, ctx.tenantId, [req.data]), ctx.now);
    const id = await escalationId(original.id);
    const content = await contentResolver(ctx.db, ctx.tenantId)(planned!.req);
    const { row, notes } = buildPlanned(ctx, planned!, content, { id, originalCommunicationId: original.id });
    // An escalation is a send like any other: it counts against the month's quota.
    await withinQuota(limiter, ctx.tenantId, [row], () =>
      storeAndEnqueue(ctx, [row], [note(`escalated to ${msg.escalate.channel}: ${why}`, { escalatedTo: id }), ...notes]),
    );
  } catch (error) {
    if (isUniqueViolation(error)) return; // already escalated by an earlier copy of this message
    if (!(error instanceof AppError)) throw error;
    await ctx.db.batch([note(`could not escalate to ${msg.escalate.channel as Channel}: ${error.message}`)]);
  }
}
