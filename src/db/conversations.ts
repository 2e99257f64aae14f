/**
 * Conversation queries, every one filtered by tenant. The reads the inbound ingest needs are
 * statements (not executed) so a whole batch of inbound messages reads them in one round trip.
 */
import { and, desc, eq, gt, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { communication, conversation, conversationMessage, providerConfig, recipientPreference } from "./schema";
import type { ConversationMedia } from "./schema";
import type { Channel } from "../domain";

export type ConversationRow = typeof conversation.$inferSelect;
export type ConversationMessageRow = typeof conversationMessage.$inferSelect;

/** Inbound messages already stored under any of these provider ids. */
export const storedByProviderIds = (db: Db, tenantId: string, ids: string[]) =>
  db
    .select({ id: conversationMessage.id, conversationId: conversationMessage.conversationId, providerConfigId: conversationMessage.providerConfigId, providerMessageId: conversationMessage.providerMessageId, media: conversationMessage.media })
    .from(conversationMessage)
    .where(and(eq(conversationMessage.tenantId, tenantId), inArray(conversationMessage.providerMessageId, ids)));

/** Threads with any of these contacts (the caller matches channel and our address). */
export const threadsWithContacts = (db: Db, tenantId: string, contacts: string[]) =>
  db.select().from(conversation).where(and(eq(conversation.tenantId, tenantId), inArray(conversation.contact, contacts)));

export const threadsById = (db: Db, tenantId: string, ids: string[]) =>
  db.select().from(conversation).where(and(eq(conversation.tenantId, tenantId), inArray(conversation.id, ids)));

const sentColumns = {
  id: communication.id,
  channel: communication.channel,
  recipientContact: communication.recipientContact,
  recipientType: communication.recipientType,
  recipientId: communication.recipientId,
  providerMessageId: communication.providerMessageId,
  entityType: communication.entityType,
  entityId: communication.entityId,
  createdAt: communication.createdAt,
};
export type SentRow = { id: string; channel: Channel; recipientContact: string; recipientType: string; recipientId: string | null; providerMessageId: string | null; entityType: string | null; entityId: string | null; createdAt: Date };

/** Our communications a reply names by provider message id (WhatsApp context id, email Message-ID). */
/** Our communications by id (those named by verified reply tokens). */
export const sentByIds = (db: Db, tenantId: string, ids: string[]) =>
  db.select(sentColumns).from(communication).where(and(eq(communication.tenantId, tenantId), inArray(communication.id, ids)));

export const sentByProviderIds = (db: Db, tenantId: string, ids: string[]) =>
  db.select(sentColumns).from(communication).where(and(eq(communication.tenantId, tenantId), inArray(communication.providerMessageId, ids)));

/** Communications sent to these contacts since `since`, newest first: what an unnamed reply answers. */
export const recentSendsTo = (db: Db, tenantId: string, contacts: string[], since: Date) =>
  db
    .select(sentColumns)
    .from(communication)
    .where(and(eq(communication.tenantId, tenantId), inArray(communication.recipientContact, contacts), gt(communication.createdAt, since)))
    .orderBy(desc(communication.createdAt))
    .limit(500);

/** Recipient profiles whose (plain) preferred contact is one of these. Sealed contacts cannot match. */
export const profilesWithContacts = (db: Db, tenantId: string, contacts: string[]) =>
  db
    .select({
      entityType: recipientPreference.entityType,
      entityId: recipientPreference.entityId,
      email: recipientPreference.preferredEmail,
      phone: recipientPreference.preferredPhone,
      whatsapp: recipientPreference.preferredWhatsapp,
      messenger: recipientPreference.preferredMessengerId,
    })
    .from(recipientPreference)
    .where(
      and(
        eq(recipientPreference.tenantId, tenantId),
        or(
          inArray(recipientPreference.preferredEmail, contacts),
          inArray(recipientPreference.preferredPhone, contacts),
          inArray(recipientPreference.preferredWhatsapp, contacts),
          inArray(recipientPreference.preferredMessengerId, contacts),
        ),
      ),
    );

/** A new thread, or the counters of an existing one moved (the same statement either way). */
export const upsertThread = (db: Db, row: ConversationRow, inbound: number) =>
  db
    .insert(conversation)
    .values(row)
    .onConflictDoUpdate({
      target: [conversation.tenantId, conversation.channel, conversation.contact, conversation.ourAddress],
      set: {
        unreadCount: sql`${conversation.unreadCount} + ${inbound}`,
        lastInboundAt: sql`max(coalesce(${conversation.lastInboundAt}, 0), coalesce(excluded.last_inbound_at, 0))`,
        lastMessageAt: sql`max(${conversation.lastMessageAt}, excluded.last_message_at)`,
        recipientType: sql`coalesce(${conversation.recipientType}, excluded.recipient_type)`,
        recipientId: sql`coalesce(${conversation.recipientId}, excluded.recipient_id)`,
        communicationId: sql`coalesce(${conversation.communicationId}, excluded.communication_id)`,
        providerConfigId: sql`coalesce(excluded.provider_config_id, ${conversation.providerConfigId})`,
        updatedAt: sql`excluded.updated_at`,
      },
    });

/**
 * A message in the thread that `key` names; its conversation id is read inside the same
 * transaction, so a thread created by a concurrent batch is joined, not duplicated.
 */
export const insertMessage = (db: Db, row: Omit<ConversationMessageRow, "conversationId">, key: { channel: Channel; contact: string; ourAddress: string }) =>
  db
    .insert(conversationMessage)
    .values({
      ...row,
      conversationId: sql`(select ${conversation.id} from ${conversation} where ${conversation.tenantId} = ${row.tenantId} and ${conversation.channel} = ${key.channel} and ${conversation.contact} = ${key.contact} and ${conversation.ourAddress} = ${key.ourAddress})`,
    })
    .onConflictDoNothing();

/** The media job's read (src/conversations/media-job.ts): inbound messages by id, with their threads, the communications they answer and their configs. */
export const inboundByIds = (db: Db, tenantId: string, ids: string[]) =>
  db.select().from(conversationMessage).where(and(eq(conversationMessage.tenantId, tenantId), eq(conversationMessage.direction, "in"), inArray(conversationMessage.id, ids)));

const ofMessages = (db: Db, tenantId: string, ids: string[], column: typeof conversationMessage.conversationId | typeof conversationMessage.inReplyToCommunicationId | typeof conversationMessage.providerConfigId) =>
  db.select({ id: column }).from(conversationMessage).where(and(eq(conversationMessage.tenantId, tenantId), inArray(conversationMessage.id, ids)));

export const threadsOfMessages = (db: Db, tenantId: string, ids: string[]) =>
  db.select().from(conversation).where(and(eq(conversation.tenantId, tenantId), inArray(conversation.id, ofMessages(db, tenantId, ids, conversationMessage.conversationId))));

export const answeredByMessages = (db: Db, tenantId: string, ids: string[]) =>
  db.select(sentColumns).from(communication).where(and(eq(communication.tenantId, tenantId), inArray(communication.id, ofMessages(db, tenantId, ids, conversationMessage.inReplyToCommunicationId))));

export const configsOfMessages = (db: Db, tenantId: string, ids: string[]) =>
  db.select().from(providerConfig).where(and(eq(providerConfig.tenantId, tenantId), inArray(providerConfig.id, ofMessages(db, tenantId, ids, conversationMessage.providerConfigId))));

/**
 * A message's media as the media job settled them, only if they are still what it read: an
 * erasure (or a second run of the job) that got there first is not overwritten.
 */
export const settleMedia = (db: Db, tenantId: string, id: string, read: ConversationMedia[], media: ConversationMedia[]) =>
  db
    .update(conversationMessage)
    .set({ media })
    .where(and(eq(conversationMessage.tenantId, tenantId), eq(conversationMessage.id, id), sql`${conversationMessage.media} = ${JSON.stringify(read)}`));

export const insertOutbound = (db: Db, row: ConversationMessageRow) => db.insert(conversationMessage).values(row);

export const touchThread = (db: Db, tenantId: string, id: string, at: Date) =>
  db.update(conversation).set({ lastMessageAt: at, updatedAt: at }).where(and(eq(conversation.tenantId, tenantId), eq(conversation.id, id)));

export const getThread = (db: Db, tenantId: string, id: string) =>
  db.select().from(conversation).where(and(eq(conversation.tenantId, tenantId), eq(conversation.id, id))).get();

export type ThreadFilter = { channel?: Channel; recipientType?: string; recipientId?: string; unread?: boolean; updatedSince?: Date; before?: { updatedAt: Date; id: string } };

/** Newest activity first; the cursor is the last row's (updatedAt, id). */
export function listThreads(db: Db, tenantId: string, f: ThreadFilter, limit: number) {
  const where = [eq(conversation.tenantId, tenantId)];
  if (f.channel) where.push(eq(conversation.channel, f.channel));
  if (f.recipientType) where.push(eq(conversation.recipientType, f.recipientType));
  if (f.recipientId) where.push(eq(conversation.recipientId, f.recipientId));
  if (f.unread === true) where.push(gt(conversation.unreadCount, 0));
  if (f.unread === false) where.push(eq(conversation.unreadCount, 0));
  if (f.updatedSince) where.push(gt(conversation.updatedAt, f.updatedSince));
  if (f.before) where.push(or(lt(conversation.updatedAt, f.before.updatedAt), and(eq(conversation.updatedAt, f.before.updatedAt), lt(conversation.id, f.before.id)))!);
  return db
    .select()
    .from(conversation)
    .where(and(...where))
    .orderBy(desc(conversation.updatedAt), desc(conversation.id))
    .limit(limit)
    .all();
}

/** Oldest first, after the cursor (a message id: uuidv7 ids sort by time). */
export const listMessages = (db: Db, tenantId: string, conversationId: string, after: string | undefined, limit: number) =>
  db
    .select()
    .from(conversationMessage)
    .where(and(eq(conversationMessage.tenantId, tenantId), eq(conversationMessage.conversationId, conversationId), ...(after ? [gt(conversationMessage.id, after)] : [])))
    .orderBy(conversationMessage.at, conversationMessage.id)
    .limit(limit)
    .all();

export const getMessage = (db: Db, tenantId: string, conversationId: string, id: string) =>
  db
    .select()
    .from(conversationMessage)
    .where(and(eq(conversationMessage.tenantId, tenantId), eq(conversationMessage.conversationId, conversationId), eq(conversationMessage.id, id)))
    .get();

/** The newest inbound message of a thread: its Message-ID for an email reply's In-Reply-To, what it answered for a Slack reply's thread. */
export const lastInboundReference = (db: Db, tenantId: string, conversationId: string) =>
  db
    .select({ providerMessageId: conversationMessage.providerMessageId, subject: conversationMessage.subject, inReplyTo: conversationMessage.inReplyTo })
    .from(conversationMessage)
    .where(and(eq(conversationMessage.tenantId, tenantId), eq(conversationMessage.conversationId, conversationId), eq(conversationMessage.direction, "in"), isNotNull(conversationMessage.providerMessageId)))
    .orderBy(desc(conversationMessage.at))
    .limit(1)
    .get();

export const markRead = (db: Db, tenantId: string, id: string) =>
  db.update(conversation).set({ unreadCount: 0 }).where(and(eq(conversation.tenantId, tenantId), eq(conversation.id, id))).returning().get();
