/**
 * Reminder sequences. A due step is claimed with a conditional update (the claim's token is
 * `claimed_at`, and the step number must still be the one the pass read), then advanced in the
 * same D1 batch that stores the step's communications: two overlapping cron runs never send a
 * step twice. A claim left by a run that died is taken over once it is stale.
 */
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { communication, reminderSequence, type ReminderStatus, type ReminderStepLog } from "./schema";

export type ReminderRow = typeof reminderSequence.$inferSelect;

/** Inserts the sequence unless one with the same name is already active for the entity. */
export const insertReminder = (db: Db, row: ReminderRow) => db.insert(reminderSequence).values(row).onConflictDoNothing().returning();

export const getReminder = (db: Db, tenantId: string, id: string) =>
  db.select().from(reminderSequence).where(and(eq(reminderSequence.tenantId, tenantId), eq(reminderSequence.id, id))).get();

export const activeReminderNamed = (db: Db, tenantId: string, entityType: string, entityId: string, name: string) =>
  db
    .select()
    .from(reminderSequence)
    .where(
      and(
        eq(reminderSequence.tenantId, tenantId),
        eq(reminderSequence.entityType, entityType),
        eq(reminderSequence.entityId, entityId),
        eq(reminderSequence.name, name),
        eq(reminderSequence.status, "active"),
      ),
    )
    .get();

export type ReminderFilter = {
  entityType?: string;
  entityId?: string;
  status?: ReminderStatus;
  name?: string;
  recipientType?: string;
  recipientId?: string;
  triggerRuleId?: string;
  workflowRunId?: string;
  /** The last id of the previous page (ids are time-ordered, newest first). */
  cursor?: string;
};

export function listReminders(db: Db, tenantId: string, f: ReminderFilter, limit: number) {
  const where = [eq(reminderSequence.tenantId, tenantId)];
  if (f.entityType) where.push(eq(reminderSequence.entityType, f.entityType));
  if (f.entityId) where.push(eq(reminderSequence.entityId, f.entityId));
  if (f.status) where.push(eq(reminderSequence.status, f.status));
  if (f.name) where.push(eq(reminderSequence.name, f.name));
  if (f.recipientType) where.push(sql`json_extract(${reminderSequence.recipient}, '$.type') = ${f.recipientType}`);
  if (f.recipientId) where.push(sql`json_extract(${reminderSequence.recipient}, '$.id') = ${f.recipientId}`);
  if (f.triggerRuleId) where.push(eq(reminderSequence.triggerRuleId, f.triggerRuleId));
  if (f.workflowRunId) where.push(eq(reminderSequence.workflowRunId, f.workflowRunId));
  if (f.cursor) where.push(lt(reminderSequence.id, f.cursor));
  return db.select().from(reminderSequence).where(and(...where)).orderBy(desc(reminderSequence.id)).limit(limit).all();
}

const stop = (now: Date, reason: string) => ({ status: "cancelled" as const, cancelledAt: now, cancelReason: reason, nextAt: null, updatedAt: now });

/** Cancels the entity's active sequences that list `eventType` among their cancelling events. */
export const cancelRemindersOn = (db: Db, tenantId: string, entityType: string, entityId: string, eventType: string, now: Date, eventId: string | null = null) =>
  db
    .update(reminderSequence)
    .set({ ...stop(now, `cancelled by ${eventType}`), cancelledByEventType: eventType, cancelledByEventId: eventId })
    .where(
      and(
        eq(reminderSequence.tenantId, tenantId),
        eq(reminderSequence.entityType, entityType),
        eq(reminderSequence.entityId, entityId),
        eq(reminderSequence.status, "active"),
        sql`EXISTS (SELECT 1 FROM json_each(${reminderSequence.cancelOn}) WHERE value = ${eventType})`,
      ),
    )
    .returning()
    .all();

export const cancelReminder = (db: Db, tenantId: string, id: string, reason: string, now: Date) =>
  db
    .update(reminderSequence)
    .set(stop(now, reason))
    .where(and(eq(reminderSequence.tenantId, tenantId), eq(reminderSequence.id, id), eq(reminderSequence.status, "active")))
    .returning()
    .get();

const claimable = (now: Date, staleBefore: Date) =>
  and(
    eq(reminderSequence.status, "active"),
    lte(reminderSequence.nextAt, now),
    or(isNull(reminderSequence.claimedAt), lte(reminderSequence.claimedAt, staleBefore)),
  );

/** Due steps across tenants, earliest first, at most `limit`. */
export const findDueReminders = (db: Db, now: Date, staleBefore: Date, limit: number) =>
  db
    .select({ id: reminderSequence.id, tenantId: reminderSequence.tenantId, stepsSent: reminderSequence.stepsSent })
    .from(reminderSequence)
    .where(claimable(now, staleBefore))
    .orderBy(asc(reminderSequence.nextAt))
    .limit(limit)
    .all();

export const claimReminder = (db: Db, c: { tenantId: string; id: string; stepsSent: number }, now: Date, staleBefore: Date) =>
  db
    .update(reminderSequence)
    .set({ claimedAt: now })
    .where(and(eq(reminderSequence.tenantId, c.tenantId), eq(reminderSequence.id, c.id), eq(reminderSequence.stepsSent, c.stepsSent), claimable(now, staleBefore)))
    .returning()
    .get();

/**
 * Moves a claimed sequence past its step. A sequence cancelled while the step was being prepared
 * stays cancelled; the step itself was already claimed and goes out.
 */
export const advanceReminder = (db: Db, claimed: ReminderRow, nextAt: Date | null, lastError: string | null, now: Date, log: ReminderStepLog) =>
  db
    .update(reminderSequence)
    .set({
      stepLog: sql`json_insert(${reminderSequence.stepLog}, '$[#]', json(${JSON.stringify(log)}))`,
      stepsSent: sql`${reminderSequence.stepsSent} + 1`,
      nextAt: sql`CASE WHEN ${reminderSequence.status} = 'active' THEN ${nextAt?.getTime() ?? null} ELSE NULL END`,
      status: nextAt ? sql`${reminderSequence.status}` : sql`CASE WHEN ${reminderSequence.status} = 'active' THEN 'completed' ELSE ${reminderSequence.status} END`,
      claimedAt: null,
      lastError,
      updatedAt: now,
    })
    .where(and(eq(reminderSequence.tenantId, claimed.tenantId), eq(reminderSequence.id, claimed.id), eq(reminderSequence.claimedAt, claimed.claimedAt!)));

/** Communications of these sequences still waiting to go out (held for quiet hours, delayed). */
export const pendingSequenceSends = (db: Db, tenantId: string, sequenceIds: string[]) =>
  db
    .select()
    .from(communication)
    .where(
      and(
        eq(communication.tenantId, tenantId),
        inArray(communication.createdBy, sequenceIds.map((id) => `system:reminder:${id}`)),
        inArray(communication.status, ["scheduled", "queued"]),
      ),
    )
    .all();

/** Every communication a sequence made, oldest first. */
export const sequenceCommunications = (db: Db, tenantId: string, id: string) =>
  db
    .select({ id: communication.id, channel: communication.channel, status: communication.status, scheduledAt: communication.scheduledAt, createdAt: communication.createdAt, metadata: communication.metadata })
    .from(communication)
    .where(and(eq(communication.tenantId, tenantId), eq(communication.createdBy, `system:reminder:${id}`)))
    .orderBy(asc(communication.createdAt), asc(communication.id))
    .all();
