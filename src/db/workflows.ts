/**
 * Workflow, version, run and run-step queries, every one filtered by tenant. A workflow is read
 * with its active version; runs are listed newest first with an id cursor (ids are UUIDv7, so
 * they sort by creation).
 */
import { and, asc, desc, eq, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { communication, workflow, workflowRun, workflowRunStep, workflowVersion, type RunStatus } from "./schema";

export type WorkflowRow = typeof workflow.$inferSelect;
export type WorkflowVersionRow = typeof workflowVersion.$inferSelect;
export type WorkflowRunRow = typeof workflowRun.$inferSelect;
export type WorkflowRunStepRow = typeof workflowRunStep.$inferSelect;
export type WorkflowWithVersion = { workflow: WorkflowRow; version: WorkflowVersionRow };

const withActiveVersion = (db: Db) =>
  db
    .select({ workflow, version: workflowVersion })
    .from(workflow)
    .innerJoin(workflowVersion, and(eq(workflowVersion.workflowId, workflow.id), eq(workflowVersion.version, workflow.activeVersion)));

/** A live (not archived) workflow by key. */
export const getWorkflow = (db: Db, tenantId: string, key: string): Promise<WorkflowWithVersion | undefined> =>
  withActiveVersion(db)
    .where(and(eq(workflow.tenantId, tenantId), eq(workflow.key, key), isNull(workflow.archivedAt)))
    .get();

/** Any workflow row by key, archived included: keys are never reused for another journey's runs. */
export const getWorkflowRow = (db: Db, tenantId: string, key: string) =>
  db.select().from(workflow).where(and(eq(workflow.tenantId, tenantId), eq(workflow.key, key))).get();

export const listWorkflows = (db: Db, tenantId: string) =>
  withActiveVersion(db)
    .where(and(eq(workflow.tenantId, tenantId), isNull(workflow.archivedAt)))
    .orderBy(asc(workflow.key))
    .all();

export const insertWorkflow = (db: Db, row: WorkflowRow, version: WorkflowVersionRow) =>
  db.batch([db.insert(workflow).values(row), db.insert(workflowVersion).values(version)]);

export const insertVersion = (db: Db, version: WorkflowVersionRow) => db.insert(workflowVersion).values(version);

/** A new version, made active in the same transaction; the version number is one past the highest. */
export const publishVersion = (db: Db, tenantId: string, workflowId: string, version: WorkflowVersionRow, now: Date) =>
  db.batch([
    db.insert(workflowVersion).values(version),
    db
      .update(workflow)
      .set({ activeVersion: version.version, updatedAt: now })
      .where(and(eq(workflow.tenantId, tenantId), eq(workflow.id, workflowId))),
  ]);

export const maxVersion = async (db: Db, tenantId: string, workflowId: string) =>
  (
    await db
      .select({ v: sql<number>`max(${workflowVersion.version})` })
      .from(workflowVersion)
      .where(and(eq(workflowVersion.tenantId, tenantId), eq(workflowVersion.workflowId, workflowId)))
      .get()
  )?.v ?? 0;

export const listVersions = (db: Db, tenantId: string, workflowId: string) =>
  db
    .select()
    .from(workflowVersion)
    .where(and(eq(workflowVersion.tenantId, tenantId), eq(workflowVersion.workflowId, workflowId)))
    .orderBy(desc(workflowVersion.version))
    .all();

export const getVersion = (db: Db, tenantId: string, workflowKey: string, version: number) =>
  db
    .select({ version: workflowVersion })
    .from(workflowVersion)
    .innerJoin(workflow, eq(workflow.id, workflowVersion.workflowId))
    .where(and(eq(workflow.tenantId, tenantId), eq(workflow.key, workflowKey), eq(workflowVersion.version, version)))
    .get()
    .then((r) => r?.version);

export const updateWorkflow = (db: Db, tenantId: string, id: string, patch: Partial<WorkflowRow>) =>
  db
    .update(workflow)
    .set(patch)
    .where(and(eq(workflow.tenantId, tenantId), eq(workflow.id, id)));

// ---- runs ----

export const insertRuns = (db: Db, rows: WorkflowRunRow[]) => rows.map((r) => db.insert(workflowRun).values(r).onConflictDoNothing());

/** One bound parameter for a whole list of values (D1 binds at most 100 per statement). */
const inJson = (column: AnySQLiteColumn, values: string[]) => sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;

/** The runs stored under these idempotency keys: any number of keys in one statement. */
export const runsByIdempotency = (db: Db, tenantId: string, workflowKey: string, keys: string[]) =>
  db
    .select()
    .from(workflowRun)
    .where(and(eq(workflowRun.tenantId, tenantId), eq(workflowRun.workflowKey, workflowKey), inJson(workflowRun.idempotencyKey, keys)))
    .all();

export const getRun = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(workflowRun)
    .where(and(eq(workflowRun.tenantId, tenantId), eq(workflowRun.id, id)))
    .get();

/** The steps of these runs (a page of up to 100), in one statement: the ids bind as one parameter. */
export const stepsOfRuns = async (db: Db, tenantId: string, runIds: string[]): Promise<WorkflowRunStepRow[]> =>
  runIds.length
    ? db
        .select()
        .from(workflowRunStep)
        .where(and(eq(workflowRunStep.tenantId, tenantId), inJson(workflowRunStep.runId, runIds)))
        .orderBy(asc(workflowRunStep.startedAt))
        .all()
    : [];

export type RunFilters = { status?: RunStatus; recipientType?: string; recipientId?: string; cursor?: string; limit: number };

export function listRuns(db: Db, tenantId: string, workflowKey: string, f: RunFilters) {
  const c: SQL[] = [eq(workflowRun.tenantId, tenantId), eq(workflowRun.workflowKey, workflowKey)];
  if (f.status) c.push(eq(workflowRun.status, f.status));
  if (f.recipientType) c.push(eq(workflowRun.recipientType, f.recipientType));
  if (f.recipientId) c.push(eq(workflowRun.recipientId, f.recipientId));
  if (f.cursor) c.push(lt(workflowRun.id, f.cursor));
  return db
    .select()
    .from(workflowRun)
    .where(and(...c))
    .orderBy(desc(workflowRun.id))
    .limit(f.limit + 1)
    .all();
}

const OPEN: RunStatus[] = ["pending", "running", "waiting"];

const idIn = (ids: string[]) => inJson(workflowRun.id, ids);

/** The runs among these ids still waiting for their instance (a cancelled one is not among them). */
export const pendingRunsByIds = (db: Db, tenantId: string, ids: string[]) =>
  db
    .select()
    .from(workflowRun)
    .where(and(eq(workflowRun.tenantId, tenantId), eq(workflowRun.status, "pending"), idIn(ids)))
    .all();

/** Pending runs nobody looked at since `before`, across tenants, least recently looked at first (the cron's pass). */
export const untouchedPendingRuns = (db: Db, before: Date, limit: number) =>
  db
    .select()
    .from(workflowRun)
    .where(and(eq(workflowRun.status, "pending"), lt(workflowRun.updatedAt, before)))
    .orderBy(asc(workflowRun.updatedAt))
    .limit(limit)
    .all();

/** Marks pending runs as looked at, so the next pass reads others first. */
export const touchPendingRuns = (db: Db, tenantId: string, ids: string[], now: Date) =>
  db
    .update(workflowRun)
    .set({ updatedAt: now })
    .where(and(eq(workflowRun.tenantId, tenantId), eq(workflowRun.status, "pending"), idIn(ids)));

/** Marks the open runs matching `which` cancelled, with why; the caller terminates their instances. */
const cancelOpen = (db: Db, tenantId: string, which: SQL, reason: string, now: Date) =>
  db
    .update(workflowRun)
    .set({ status: "cancelled", cancelReason: reason, updatedAt: now, finishedAt: now })
    .where(and(eq(workflowRun.tenantId, tenantId), which, inArray(workflowRun.status, OPEN)))
    .returning({ id: workflowRun.id, binding: workflowRun.binding, instanceId: workflowRun.instanceId })
    .all();

/** Open runs under a cancellation key. */
export const cancelByKey = (db: Db, tenantId: string, cancellationKey: string, reason: string, now: Date) =>
  cancelOpen(db, tenantId, eq(workflowRun.cancellationKey, cancellationKey), reason, now);

/** One open run; answers nothing when the run is unknown, another tenant's or already finished. */
export const cancelById = (db: Db, tenantId: string, id: string, reason: string, now: Date) => cancelOpen(db, tenantId, eq(workflowRun.id, id), reason, now);

/** Open runs of a recipient that could be waiting for an event. */
export const openRunsOf = (db: Db, tenantId: string, recipientType: string, recipientId: string) =>
  db
    .select({ id: workflowRun.id, binding: workflowRun.binding, instanceId: workflowRun.instanceId, status: workflowRun.status })
    .from(workflowRun)
    .where(
      and(eq(workflowRun.tenantId, tenantId), eq(workflowRun.recipientType, recipientType), eq(workflowRun.recipientId, recipientId), inArray(workflowRun.status, OPEN)),
    )
    .all();

export const setRunStatus = (db: Db, tenantId: string, id: string, status: RunStatus, now: Date, finished: boolean) =>
  db
    .update(workflowRun)
    .set({ status, updatedAt: now, ...(finished ? { finishedAt: now } : {}) })
    .where(and(eq(workflowRun.tenantId, tenantId), eq(workflowRun.id, id), inArray(workflowRun.status, OPEN)));

export const upsertRunStep = (db: Db, row: WorkflowRunStepRow) =>
  db
    .insert(workflowRunStep)
    .values(row)
    .onConflictDoUpdate({
      target: [workflowRunStep.runId, workflowRunStep.stepId],
      set: { status: row.status, outcome: row.outcome, finishedAt: row.finishedAt, output: row.output, communicationIds: row.communicationIds },
    });

/** The communications a run created (all steps, or one), for fresh outcome reads and send retries. */
export const runCommunications = (db: Db, tenantId: string, runId: string) =>
  db
    .select({
      id: communication.id,
      stepId: communication.workflowStepId,
      channel: communication.channel,
      status: communication.status,
      openedAt: communication.openedAt,
      clickedAt: communication.clickedAt,
    })
    .from(communication)
    .where(and(eq(communication.tenantId, tenantId), eq(communication.workflowRunId, runId)))
    .all();
