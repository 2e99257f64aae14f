/**
 * Business events and trigger rules. Every tenant-facing query filters by tenant; the recovery and
 * retention selections are the only cross-tenant reads and return the tenant with each id.
 */
import { and, asc, desc, eq, lte, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { businessEvent, triggerRule, type EventOutcome } from "./schema";

export type BusinessEventRow = typeof businessEvent.$inferSelect;
export type TriggerRuleRow = typeof triggerRule.$inferSelect;

/** Inserts the event unless the tenant already sent one with the same idempotencyKey. */
export const insertBusinessEvent = (db: Db, row: BusinessEventRow) => db.insert(businessEvent).values(row).onConflictDoNothing().returning();

export const getBusinessEvent = (db: Db, tenantId: string, id: string) =>
  db.select().from(businessEvent).where(and(eq(businessEvent.tenantId, tenantId), eq(businessEvent.id, id))).get();

export const eventByKey = (db: Db, tenantId: string, key: string) =>
  db.select().from(businessEvent).where(and(eq(businessEvent.tenantId, tenantId), eq(businessEvent.idempotencyKey, key))).get();

export function listBusinessEvents(db: Db, tenantId: string, f: { type?: string; entityType?: string; entityId?: string }, limit: number) {
  const where = [eq(businessEvent.tenantId, tenantId)];
  if (f.type) where.push(eq(businessEvent.type, f.type));
  if (f.entityType) where.push(eq(businessEvent.entityType, f.entityType));
  if (f.entityId) where.push(eq(businessEvent.entityId, f.entityId));
  return db.select().from(businessEvent).where(and(...where)).orderBy(desc(businessEvent.receivedAt), desc(businessEvent.id)).limit(limit).all();
}

/**
 * Claims an event for processing: pending, or processing by a consumer that stopped reporting
 * before `staleBefore`. Of two deliveries of the same queue message only one gets the row.
 */
export const claimBusinessEvent = (db: Db, tenantId: string, id: string, now: Date, staleBefore: Date) =>
  db
    .update(businessEvent)
    .set({ status: "processing", claimedAt: now })
    .where(
      and(
        eq(businessEvent.tenantId, tenantId),
        eq(businessEvent.id, id),
        or(eq(businessEvent.status, "pending"), and(eq(businessEvent.status, "processing"), lte(businessEvent.claimedAt, staleBefore))),
      ),
    )
    .returning()
    .get();

/** Records the outcome, only while this attempt's claim holds. */
export const markProcessed = (db: Db, e: BusinessEventRow, outcome: EventOutcome, now: Date) =>
  db
    .update(businessEvent)
    .set({ status: "processed", outcome, processedAt: now })
    .where(and(eq(businessEvent.tenantId, e.tenantId), eq(businessEvent.id, e.id), eq(businessEvent.claimedAt, e.claimedAt!)));

/** Gives back a claim whose processing threw before anything was stored, so a retry can run at once. */
export const releaseBusinessEvent = (db: Db, e: BusinessEventRow) =>
  db
    .update(businessEvent)
    .set({ status: "pending", claimedAt: null })
    .where(and(eq(businessEvent.tenantId, e.tenantId), eq(businessEvent.id, e.id), eq(businessEvent.status, "processing"), eq(businessEvent.claimedAt, e.claimedAt!)));

/** Events whose queue message may have been lost: still pending after the grace, or a stale claim. */
export const findUnprocessedEvents = (db: Db, pendingBefore: Date, staleBefore: Date, limit: number) =>
  db
    .select({ id: businessEvent.id, tenantId: businessEvent.tenantId })
    .from(businessEvent)
    .where(
      or(
        and(eq(businessEvent.status, "pending"), lte(businessEvent.receivedAt, pendingBefore)),
        and(eq(businessEvent.status, "processing"), lte(businessEvent.claimedAt, staleBefore)),
      ),
    )
    .orderBy(asc(businessEvent.receivedAt))
    .limit(limit)
    .all();

/** Pushes `receivedAt` forward so a re-enqueued event is not re-enqueued again by the next pass. */
export const touchPending = (db: Db, tenantId: string, id: string, now: Date) =>
  db
    .update(businessEvent)
    .set({ receivedAt: now })
    .where(and(eq(businessEvent.tenantId, tenantId), eq(businessEvent.id, id), eq(businessEvent.status, "pending")));

/** Deletes up to `limit` processed events received before `before` (retention); returns how many. */
export async function deleteProcessedEvents(db: Db, before: Date, limit: number) {
  const res = await db.run(
    sql`DELETE FROM ${businessEvent} WHERE ${businessEvent.id} IN (SELECT ${businessEvent.id} FROM ${businessEvent} WHERE ${businessEvent.status} = 'processed' AND ${businessEvent.receivedAt} <= ${before.getTime()} LIMIT ${limit})`,
  );
  return res.meta.changes ?? 0;
}

export const insertTriggerRule = (db: Db, row: TriggerRuleRow) => db.insert(triggerRule).values(row).returning().get();

export const getTriggerRule = (db: Db, tenantId: string, id: string) =>
  db.select().from(triggerRule).where(and(eq(triggerRule.tenantId, tenantId), eq(triggerRule.id, id))).get();

export const listTriggerRules = (db: Db, tenantId: string) =>
  db.select().from(triggerRule).where(eq(triggerRule.tenantId, tenantId)).orderBy(asc(triggerRule.createdAt), asc(triggerRule.id)).all();

export const enabledRulesFor = (db: Db, tenantId: string, eventType: string) =>
  db
    .select()
    .from(triggerRule)
    .where(and(eq(triggerRule.tenantId, tenantId), eq(triggerRule.eventType, eventType), eq(triggerRule.enabled, true)))
    .orderBy(asc(triggerRule.createdAt), asc(triggerRule.id))
    .all();

/** The update only if the rule is still the version stamped `readAt` (see src/lib/compare-and-set.ts). */
export const updateTriggerRuleIfUnchanged = (db: Db, tenantId: string, id: string, readAt: Date, patch: Partial<TriggerRuleRow>) =>
  db
    .update(triggerRule)
    .set(patch)
    .where(and(eq(triggerRule.tenantId, tenantId), eq(triggerRule.id, id), eq(triggerRule.updatedAt, readAt)))
    .returning()
    .get();

export const deleteTriggerRule = (db: Db, tenantId: string, id: string) =>
  db.delete(triggerRule).where(and(eq(triggerRule.tenantId, tenantId), eq(triggerRule.id, id))).returning().get();
