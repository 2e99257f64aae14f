/**
 * Two-way conversations (issue 20): a thread per tenant, channel, contact and our address, and the
 * messages in it, inbound and outbound. A thread remembers its last inbound message (WhatsApp's
 * 24-hour customer-service window runs from it), its unread count, the recipient profile when
 * known, and the communication it was started by. Inbound messages dedupe on the provider's id per
 * provider config, so a provider's retry writes nothing.
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Channel } from "../../domain";

/**
 * One inbound medium: `key` once its bytes are in R2, `url` the provider's reference (a link or
 * `meta-media:<id>`), `error` why a linked medium could not be fetched (too large, a failed download),
 * `pending` while a linked medium waits for the media job (src/conversations/media-job.ts). A
 * medium is settled once it has a key, an error, or neither flag (a reference nobody fetches).
 */
export type ConversationMedia = { key?: string; url?: string; contentType: string; size: number; filename?: string; error?: string; pending?: true };

export const conversation = sqliteTable(
  "conversation",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    /** The customer's normalised address (E.164, lower-case email, PSID, chat id). */
    contact: text("contact").notNull(),
    /** Our number, address or page the customer wrote to. */
    ourAddress: text("our_address").notNull(),
    providerConfigId: text("provider_config_id"),
    recipientType: text("recipient_type"),
    recipientId: text("recipient_id"),
    /** The communication the thread answers (the first one that could be told). */
    communicationId: text("communication_id"),
    lastInboundAt: integer("last_inbound_at", { mode: "timestamp_ms" }),
    lastMessageAt: integer("last_message_at", { mode: "timestamp_ms" }).notNull(),
    unreadCount: integer("unread_count").notNull().default(0),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("uq_conversation_thread").on(t.tenantId, t.channel, t.contact, t.ourAddress),
    index("idx_conversation_tenant_updated").on(t.tenantId, t.updatedAt),
    index("idx_conversation_tenant_recipient").on(t.tenantId, t.recipientType, t.recipientId),
  ],
);

export const conversationMessage = sqliteTable(
  "conversation_message",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    conversationId: text("conversation_id").notNull(),
    direction: text("direction").$type<"in" | "out">().notNull(),
    providerConfigId: text("provider_config_id"),
    providerMessageId: text("provider_message_id"),
    text: text("text"),
    subject: text("subject"),
    button: text("button", { mode: "json" }).$type<{ payload?: string; text: string } | null>(),
    media: text("media", { mode: "json" }).$type<ConversationMedia[] | null>(),
    /** Outbound: the communication that carried the reply. */
    communicationId: text("communication_id"),
    /** Inbound: the communication it answers, when one can be told. */
    inReplyToCommunicationId: text("in_reply_to_communication_id"),
    /** Inbound: the provider context / email Message-ID it named. */
    inReplyTo: text("in_reply_to"),
    /** A keyword it matched: stop, start, help or tenant. */
    keyword: text("keyword"),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    /** When the events sweep last queued a media job for it (src/pipeline/events-sweep.ts), so it does so once per wait. */
    mediaSweptAt: integer("media_swept_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("uq_conversation_message_provider").on(t.tenantId, t.providerConfigId, t.providerMessageId),
    index("idx_conversation_message_thread").on(t.conversationId, t.at),
    index("idx_conversation_message_communication").on(t.tenantId, t.communicationId),
    index("idx_conversation_message_tenant_created").on(t.tenantId, t.createdAt),
    // Messages with a medium still waiting for the media job, by arrival. The index holds only
    // those (a handful at any time), so the events sweep never scans settled messages. JSON.stringify
    // writes the flag as `"pending":true`; a string value cannot contain it unescaped.
    index("idx_conversation_message_media_pending").on(t.createdAt).where(sql`instr(${t.media}, '"pending":true') > 0`),
  ],
);
