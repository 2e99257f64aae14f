/**
 * Conversations under data-protection requests (issue 14) and retention. Messages are blanked in
 * place, not deleted: the thread's unread count, last-message times and message counts stay true,
 * and an inbound row keeps its provider message id, the dedupe key, so a provider retrying an
 * erased message cannot write its text back. A thread's contact is its key (unique per tenant,
 * channel and our address), so it is replaced by a marker carrying the thread's own id: erased
 * threads never collide, and the customer writing again opens a new thread.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import { conversation, conversationMessage, type ConversationMedia } from "./schema";
import type { RecipientRef } from "./recipients";
import { threadsWithContacts, type ConversationMessageRow, type ConversationRow } from "./conversations";
import { chunk } from "../lib/chunk";
import { ERASED, REDACTED } from "./markers";

/** D1 binds at most 100 parameters per statement. */
const parts = <T>(items: T[]) => chunk(items, 90);

/** An erased or expired thread's contact: nothing can be sent to it. */
export const isBlankedContact = (contact: string) => contact.startsWith(`${ERASED}:`) || contact.startsWith(`${REDACTED}:`);

/**
 * Up to `limit` threads of a recipient: linked to the profile, or with one of its contacts (the
 * linked threads' own contacts included, so a number's WhatsApp thread goes with its SMS thread).
 */
export async function threadsOfRecipient(db: Db, r: RecipientRef, contacts: string[], limit: number): Promise<ConversationRow[]> {
  const linked = await db
    .select()
    .from(conversation)
    .where(and(eq(conversation.tenantId, r.tenantId), eq(conversation.recipientType, r.recipientType), eq(conversation.recipientId, r.recipientId)))
    .limit(limit)
    .all();
  // Threads key email addresses lower-cased; a stored preference may not be.
  const all = [...new Set([...contacts, ...contacts.filter((x) => x.includes("@")).map((x) => x.toLowerCase()), ...linked.map((t) => t.contact)])].filter((x) => !isBlankedContact(x));
  const byContact = (await Promise.all(parts(all).map((part) => threadsWithContacts(db, r.tenantId, part)))).flat();
  return [...new Map([...linked, ...byContact].map((t) => [t.id, t])).values()].slice(0, limit);
}

/** The threads' messages, oldest first, at most `limit`. */
export async function messagesOfThreads(db: Db, tenantId: string, ids: string[], limit: number): Promise<ConversationMessageRow[]> {
  const pages = await Promise.all(
    parts(ids).map((part) =>
      db
        .select()
        .from(conversationMessage)
        .where(and(eq(conversationMessage.tenantId, tenantId), inArray(conversationMessage.conversationId, part)))
        .orderBy(conversationMessage.at, conversationMessage.id)
        .limit(limit)
        .all(),
    ),
  );
  return pages.flat().sort((a, b) => a.at.getTime() - b.at.getTime() || a.id.localeCompare(b.id)).slice(0, limit);
}

export const mediaKeys = (rows: { media: ConversationMedia[] | null }[]) => rows.flatMap((r) => (r.media ?? []).flatMap((m) => (m.key ? [m.key] : [])));

/** The R2 keys of the media stored in these threads (read before the rows are blanked). */
export async function storedMediaOfThreads(db: Db, tenantId: string, ids: string[]): Promise<string[]> {
  const rows = await Promise.all(
    parts(ids).map((part) =>
      db
        .select({ media: conversationMessage.media })
        .from(conversationMessage)
        .where(and(eq(conversationMessage.tenantId, tenantId), inArray(conversationMessage.conversationId, part), sql`${conversationMessage.media} IS NOT NULL`))
        .all(),
    ),
  );
  return mediaKeys(rows.flat());
}

/**
 * Blanks every message of these threads (both directions: a reply can quote the customer) and
 * replaces the threads' contacts; a thread linked to this recipient gets the pseudonym their
 * communications got. Direction, keyword, times and ids stay. The In-Reply-To reference goes: an
 * email Message-ID can carry the sender's domain.
 */
export const eraseThreads = (db: Db, r: RecipientRef, ids: string[], pseudonym: string) =>
  parts(ids).flatMap((part) => [
    db
      .update(conversationMessage)
      .set({
        text: ERASED,
        subject: sql`CASE WHEN ${conversationMessage.subject} IS NULL THEN NULL ELSE ${ERASED} END`,
        button: null,
        media: null,
        inReplyTo: null,
      })
      .where(and(eq(conversationMessage.tenantId, r.tenantId), inArray(conversationMessage.conversationId, part))),
    db
      .update(conversation)
      .set({
        contact: sql`${ERASED} || ':' || ${conversation.id}`,
        recipientId: sql`CASE WHEN ${conversation.recipientType} = ${r.recipientType} AND ${conversation.recipientId} = ${r.recipientId} THEN ${pseudonym} ELSE ${conversation.recipientId} END`,
      })
      .where(and(eq(conversation.tenantId, r.tenantId), inArray(conversation.id, part))),
  ]);

/**
 * Retention: up to `limit` messages stored before `cutoff` whose text or media are still there;
 * answers their ids and stored media keys (for the caller to delete from R2 before blanking).
 */
export const messagesDue = (db: Db, tenantId: string, cutoff: Date, limit: number) =>
  db.all<{ id: string; media: string | null }>(sql`
    SELECT id, media FROM conversation_message
    WHERE tenant_id = ${tenantId} AND created_at < ${cutoff.getTime()} AND (text IS NULL OR text NOT IN (${REDACTED}, ${ERASED}))
    LIMIT ${limit}`);

/** Retention's blanking, as statements for one batch: the text, subject, button and media go; direction, keyword and times stay. */
export const redactMessages = (db: Db, tenantId: string, ids: string[]) =>
  parts(ids).map((part) =>
    db
      .update(conversationMessage)
      .set({ text: REDACTED, subject: null, button: null, media: null, inReplyTo: null })
      .where(and(eq(conversationMessage.tenantId, tenantId), inArray(conversationMessage.id, part))),
  );

/**
 * Retention of the threads themselves: one with no message since `cutoff` loses its contact, as an
 * old communication does; it keeps its recipient link and counts. Bounded by `limit` per pass.
 */
export const redactIdleThreads = (db: Db, tenantId: string, cutoff: Date, limit: number) =>
  db.run(sql`
    UPDATE conversation SET contact = ${REDACTED} || ':' || id
    WHERE id IN (
      SELECT id FROM conversation
      WHERE tenant_id = ${tenantId} AND last_message_at < ${cutoff.getTime()} AND contact NOT LIKE '[%'
      LIMIT ${limit})`);
