/**
 * A send in a thread: the tenant's reply (POST /api/conversations/:id/reply) or the HELP answer.
 * It is an ordinary send request to the thread's contact on the thread's channel, planned and
 * rendered by the same code as POST /api/communications/send (preferences, suppressions,
 * templates), stored by the caller with `storeAndEnqueue` beside its own statements, and delivered
 * by the normal pipeline (failover, retries, tracking). An email reply carries In-Reply-To and
 * References naming the customer's message (src/conversations/email-headers.ts); a chat reply may
 * carry vendor fields (Slack's `thread_ts`) under `metadata.<channel>`.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { insertOutbound, type ConversationRow } from "../db/conversations";
import type { CommunicationRow } from "../db/communications";
import type { AcceptContext } from "../pipeline/accept";
import { loadRecipients } from "../pipeline/plan";
import { prepare } from "../pipeline/prepare";
import { SendRequest } from "../pipeline/send-request";
import { contentResolver } from "../pipeline/template-content";
import { AppError, type FieldError } from "../lib/errors";
import { uuidv7 } from "../lib/ids";
import { isBlankedContact } from "../db/conversation-privacy";

export type ThreadSend = {
  content?: string;
  templateCode?: string;
  data?: Record<string, unknown>;
  subject?: string;
  /** WhatsApp: an approved template, for a send outside the 24-hour window. */
  whatsappTemplate?: { name: string; language: string; components?: Record<string, unknown>[] };
  /** Email: the customer's Message-ID this answers. */
  inReplyTo?: string;
  /** Chat: vendor fields for the channel (`metadata.<channel>`), as Slack's `thread_ts` for an in-thread reply. */
  vendor?: Record<string, unknown>;
  type?: string;
};

export type PreparedThreadSend = { rows: CommunicationRow[]; statements: BatchItem<"sqlite">[]; followUps: Awaited<ReturnType<typeof prepare>>["followUps"] };

export async function prepareThreadSend(ctx: AcceptContext, thread: ConversationRow, send: ThreadSend): Promise<PreparedThreadSend> {
  // Erasure and retention replace the contact with a marker: there is no one to send to.
  if (isBlankedContact(thread.contact)) throw new AppError("conflict", "the conversation's contact was erased or has expired; the customer's next message opens a new conversation", [{ field: "conversation", message: "no contact to reply to" }]);
  const metadata: Record<string, unknown> = { conversationId: thread.id };
  if (send.whatsappTemplate) metadata.whatsappTemplate = send.whatsappTemplate;
  if (send.inReplyTo) metadata.inReplyTo = send.inReplyTo;
  if (send.vendor) metadata[thread.channel] = send.vendor;
  const parsed = SendRequest.safeParse({
    channel: thread.channel,
    recipientContact: thread.contact,
    ...(thread.recipientType && thread.recipientId ? { recipientType: thread.recipientType, recipientId: thread.recipientId } : {}),
    type: send.type ?? "conversation_reply",
    ...(send.content !== undefined ? { content: send.content } : {}),
    ...(send.templateCode ? { templateCode: send.templateCode, templateVariables: send.data ?? {} } : {}),
    ...(send.subject ? { subject: send.subject } : {}),
    metadata,
  });
  if (!parsed.success) {
    const errors: FieldError[] = parsed.error.issues.map((i) => ({ field: mapField(i.path.map(String).join(".")), message: i.message }));
    throw new AppError("validation_failed", "the reply cannot be sent on this conversation", errors);
  }
  const recipients = await loadRecipients(ctx.db, ctx.secret, ctx.tenantId, [parsed.data]);
  const { rows, notes, followUps } = await prepare(ctx, recipients, contentResolver(ctx.db, ctx.tenantId), parsed.data);
  const outbound = rows.map((row) =>
    insertOutbound(ctx.db, {
      id: uuidv7(ctx.now.getTime()),
      tenantId: ctx.tenantId,
      conversationId: thread.id,
      direction: "out",
      providerConfigId: null,
      providerMessageId: null,
      text: row.textContent ?? row.content,
      subject: row.subject,
      button: null,
      media: null,
      communicationId: row.id,
      inReplyToCommunicationId: null,
      inReplyTo: send.inReplyTo ?? null,
      keyword: null,
      at: ctx.now,
      createdAt: ctx.now,
      mediaSweptAt: null,
    }),
  );
  return { rows, statements: [...notes, ...outbound], followUps };
}

/** The send request's field names, as the reply body names them. */
const mapField = (field: string) => (field === "templateVariables" ? "data" : field === "recipientContact" ? "conversation" : field);
