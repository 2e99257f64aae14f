/**
 * The events sweep's statements (src/pipeline/events-sweep.ts). They read across tenants by
 * design, as the send sweep's do: a lost queue message can belong to anyone, and each row found is
 * queued again under the tenant it holds. Each candidate query repeats its partial index's WHERE
 * verbatim, with literal constants (schema/tracking.ts, schema/conversations.ts): SQLite uses a
 * partial index only for a query whose WHERE implies the index's own, and literals keep that from
 * depending on how a driver prepares and binds the statement.
 */
import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { conversation, conversationMessage, webhookDelivery } from "./schema";

/** The WHERE of idx_webhook_delivery_pending. */
const deliveryPending = sql`${webhookDelivery.status} = 'pending'`;
/** The WHERE of idx_conversation_message_media_pending. */
const mediaPending = sql`instr(${conversationMessage.media}, '"pending":true') > 0`;

/** Pending deliveries untouched since `staleBefore` (and, if given, created before `createdBefore`), oldest change first. */
const staleDeliveryIds = (db: Db, staleBefore: Date, limit: number, createdBefore?: Date) =>
  db
    .select({ id: webhookDelivery.id })
    .from(webhookDelivery)
    .where(and(deliveryPending, lt(webhookDelivery.updatedAt, staleBefore), createdBefore ? lt(webhookDelivery.createdAt, createdBefore) : undefined))
    .orderBy(asc(webhookDelivery.updatedAt))
    .limit(limit);

/** Fails the stale pending deliveries created before `createdBefore`, saying why; returns them. */
export const failStaleDeliveries = (db: Db, staleBefore: Date, createdBefore: Date, limit: number, reason: string, now: Date) =>
  db
    .update(webhookDelivery)
    .set({ status: "failed", lastError: reason, updatedAt: now })
    .where(inArray(webhookDelivery.id, staleDeliveryIds(db, staleBefore, limit, createdBefore)))
    .returning({ id: webhookDelivery.id, tenantId: webhookDelivery.tenantId });

/**
 * Marks the (remaining) stale pending deliveries as changed now and returns them, to be queued
 * again: the next pass leaves them alone for as long as a legitimate retry may take.
 */
export const touchStaleDeliveries = (db: Db, staleBefore: Date, limit: number, now: Date) =>
  db
    .update(webhookDelivery)
    .set({ updatedAt: now })
    .where(inArray(webhookDelivery.id, staleDeliveryIds(db, staleBefore, limit)))
    .returning({ id: webhookDelivery.id, tenantId: webhookDelivery.tenantId });

/**
 * Inbound messages with media still pending that arrived before `before` and were not swept
 * since, oldest first, with the address they were sent to (the thread's, normalised: the
 * provider's own `to` is not stored). A message whose thread was erased has nothing to announce.
 */
const staleMediaWhere = (before: Date) =>
  and(mediaPending, lt(conversationMessage.createdAt, before), or(isNull(conversationMessage.mediaSweptAt), lt(conversationMessage.mediaSweptAt, before)));
const withThread = and(eq(conversation.tenantId, conversationMessage.tenantId), eq(conversation.id, conversationMessage.conversationId));

export type StaleMediaMessage = { id: string; tenantId: string; to: string };

/** The oldest `limit` such messages, with what a job needs of each; the read and the touch share it. */
export const staleMediaMessages = (db: Db, before: Date, limit: number) =>
  db
    .select({ id: conversationMessage.id, tenantId: conversationMessage.tenantId, to: conversation.ourAddress })
    .from(conversationMessage)
    .innerJoin(conversation, withThread)
    .where(staleMediaWhere(before))
    .orderBy(asc(conversationMessage.createdAt), asc(conversationMessage.id))
    .limit(limit);

/** Marks the same messages as swept now; in the read's batch (one transaction), so both see the same rows. */
export const touchStaleMedia = (db: Db, before: Date, limit: number, now: Date) => {
  const stale = staleMediaMessages(db, before, limit).as("stale");
  return db
    .update(conversationMessage)
    .set({ mediaSweptAt: now })
    .where(inArray(conversationMessage.id, db.select({ id: stale.id }).from(stale)));
};
