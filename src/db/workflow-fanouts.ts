/**
 * Queries of workflow fan-outs (audience triggers), every one filtered by tenant. The cursor moves
 * only from where the caller found it and only while the fan-out is running, so a replayed or
 * concurrent page message, or one that lands after a cancel, changes nothing.
 */
import { and, asc, eq, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { MemberKey } from "./audiences";
import { workflowFanout } from "./schema";

export type WorkflowFanoutRow = typeof workflowFanout.$inferSelect;

export const insertFanout = (db: Db, row: WorkflowFanoutRow) => db.insert(workflowFanout).values(row).onConflictDoNothing().returning().get();

export const getFanout = (db: Db, tenantId: string, id: string) =>
  db.select().from(workflowFanout).where(and(eq(workflowFanout.tenantId, tenantId), eq(workflowFanout.id, id))).limit(1);

export const fanoutByIdempotency = (db: Db, tenantId: string, workflowKey: string, idempotencyKey: string) =>
  db
    .select()
    .from(workflowFanout)
    .where(and(eq(workflowFanout.tenantId, tenantId), eq(workflowFanout.workflowKey, workflowKey), eq(workflowFanout.idempotencyKey, idempotencyKey)))
    .get();

const cursorIs = (after: MemberKey | null) =>
  after
    ? and(eq(workflowFanout.cursorType, after.recipientType), eq(workflowFanout.cursorId, after.recipientId))
    : and(isNull(workflowFanout.cursorType), isNull(workflowFanout.cursorId));

/** Moves the cursor past a page and counts it; returns no row when the page was not this fan-out's next (or it stopped). */
export const advanceFanout = (db: Db, f: Pick<WorkflowFanoutRow, "tenantId" | "id">, from: MemberKey | null, to: MemberKey, delta: { started: number; failed: number; lastError?: string }, now: Date) =>
  db
    .update(workflowFanout)
    .set({
      cursorType: to.recipientType,
      cursorId: to.recipientId,
      started: sql`${workflowFanout.started} + ${delta.started}`,
      failed: sql`${workflowFanout.failed} + ${delta.failed}`,
      ...(delta.lastError ? { lastError: delta.lastError } : {}),
      updatedAt: now,
    })
    .where(and(eq(workflowFanout.tenantId, f.tenantId), eq(workflowFanout.id, f.id), eq(workflowFanout.state, "running"), cursorIs(from)))
    .returning({ id: workflowFanout.id })
    .all();

export const completeFanout = (db: Db, f: Pick<WorkflowFanoutRow, "tenantId" | "id">, now: Date) =>
  db
    .update(workflowFanout)
    .set({ state: "completed", updatedAt: now, finishedAt: now })
    .where(and(eq(workflowFanout.tenantId, f.tenantId), eq(workflowFanout.id, f.id), eq(workflowFanout.state, "running")));

/** Running fan-outs under a cancellation key stop paging: members not reached yet get no run. */
export const cancelFanoutsByKey = (db: Db, tenantId: string, cancellationKey: string, now: Date) =>
  db
    .update(workflowFanout)
    .set({ state: "cancelled", updatedAt: now, finishedAt: now })
    .where(and(eq(workflowFanout.tenantId, tenantId), eq(workflowFanout.cancellationKey, cancellationKey), eq(workflowFanout.state, "running")))
    .returning({ id: workflowFanout.id })
    .all();

/** Running fan-outs with no progress since `before`, across tenants (the cron pass restarts their chains). */
export const stalledFanouts = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(workflowFanout)
    .where(and(eq(workflowFanout.state, "running"), lt(workflowFanout.updatedAt, before)))
    .orderBy(asc(workflowFanout.updatedAt))
    .limit(limit)
    .all();
