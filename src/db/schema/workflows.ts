/**
 * Workflows (issue 23): a keyed journey whose steps live only in immutable versions (like
 * templates: `activeVersion` says which one new triggers start), its runs (one Cloudflare
 * Workflows instance each) and each run's steps as the run view shows them. A run pins the
 * version it started on, so publishing never changes a journey in flight.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Step, StepOutcome } from "../../workflows/definition";
import { tenant } from "./tenants";

export const workflow = sqliteTable(
  "workflow",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    key: text("key").notNull(),
    activeVersion: integer("active_version").notNull(),
    /** Archived (DELETE): new triggers 404, runs in flight finish. */
    archivedAt: integer("archived_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("uq_workflow_key").on(t.tenantId, t.key)],
);

export const workflowVersion = sqliteTable(
  "workflow_version",
  {
    workflowId: text("workflow_id")
      .notNull()
      .references(() => workflow.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").notNull(),
    version: integer("version").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    steps: text("steps", { mode: "json" }).$type<Step[]>().notNull(),
    triggerEvents: text("trigger_events", { mode: "json" }).$type<string[]>().notNull(),
    createdBy: text("created_by"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);

/** `pending`: stored, its Workflows instance not created or not at its first step yet (src/workflows/creation.ts). */
export const RUN_STATUSES = ["pending", "running", "waiting", "completed", "cancelled", "failed", "throttled", "digested"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_STEP_STATUSES = ["pending", "running", "waiting", "done", "skipped", "failed"] as const;
export type RunStepStatus = (typeof RUN_STEP_STATUSES)[number];

export const workflowRun = sqliteTable(
  "workflow_run",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    workflowKey: text("workflow_key").notNull(),
    version: integer("version").notNull(),
    recipientType: text("recipient_type").notNull(),
    recipientId: text("recipient_id"),
    /** The trigger's recipient as given (contacts, locale, roles): the run's sends address it. */
    recipient: text("recipient", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status").$type<RunStatus>().notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    actor: text("actor", { mode: "json" }).$type<{ type: string; id: string; name?: string } | null>(),
    cancellationKey: text("cancellation_key"),
    /** Why a cancelled run was cancelled (its cancellation key, or the reason given to the by-id cancel). */
    cancelReason: text("cancel_reason"),
    /** The trigger's idempotency key plus the recipient's position: a replayed trigger finds its runs. */
    idempotencyKey: text("idempotency_key"),
    /** The Workflows instance (JOURNEYS or JOURNEYS_BULK) carrying it; equal to `id`. */
    instanceId: text("instance_id").notNull(),
    binding: text("binding").$type<"JOURNEYS" | "JOURNEYS_BULK">().notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("uq_workflow_run_idempotency").on(t.tenantId, t.workflowKey, t.idempotencyKey),
    index("idx_workflow_run_list").on(t.tenantId, t.workflowKey, t.createdAt),
    index("idx_workflow_run_cancel").on(t.tenantId, t.cancellationKey),
    index("idx_workflow_run_recipient").on(t.tenantId, t.recipientType, t.recipientId, t.status),
    /** The cron's lost-creation pass reads pending runs oldest-touched first, across tenants. */
    index("idx_workflow_run_pending").on(t.updatedAt).where(sql`${t.status} = 'pending'`),
  ],
);

export const workflowRunStep = sqliteTable(
  "workflow_run_step",
  {
    runId: text("run_id")
      .notNull()
      .references(() => workflowRun.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").notNull(),
    stepId: text("step_id").notNull(),
    type: text("type").notNull(),
    status: text("status").$type<RunStepStatus>().notNull(),
    outcome: text("outcome").$type<StepOutcome>(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    output: text("output", { mode: "json" }).$type<Record<string, unknown>>(),
    communicationIds: text("communication_ids", { mode: "json" }).$type<string[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.stepId] })],
);
