/**
 * What workflow digest and throttle steps share between runs (issue 23). A digest is one row per
 * open window and scope (workflow, step, recipient, digest key), found through a partial unique
 * index so concurrent runs join the same one; its events are keyed by the trigger's idempotency
 * key (or event id) per scope, so the same event twice counts once, in this window or a later one.
 * A throttle keeps one row per run that reached the step in a fixed window; a run's rank among
 * them (by insertion order) decides, so concurrent runs never lose an update of a counter.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const workflowDigest = sqliteTable(
  "workflow_digest",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    scope: text("scope").notNull(),
    workflowKey: text("workflow_key").notNull(),
    stepId: text("step_id").notNull(),
    recipientKey: text("recipient_key").notNull(),
    digestKey: text("digest_key").notNull(),
    /** The run that opened the window: it waits, then continues once with every event. */
    ownerRunId: text("owner_run_id").notNull(),
    status: text("status").$type<"open" | "closed">().notNull(),
    closesAt: integer("closes_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    closedAt: integer("closed_at", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("uq_workflow_digest_open").on(t.tenantId, t.scope).where(sql`status = 'open'`), index("idx_workflow_digest_created").on(t.createdAt)],
);

export const workflowDigestEvent = sqliteTable(
  "workflow_digest_event",
  {
    tenantId: text("tenant_id").notNull(),
    scope: text("scope").notNull(),
    eventKey: text("event_key").notNull(),
    digestId: text("digest_id").notNull(),
    runId: text("run_id").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.scope, t.eventKey] }), index("idx_workflow_digest_event_digest").on(t.digestId, t.createdAt)],
);

export const workflowThrottleHit = sqliteTable(
  "workflow_throttle_hit",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    scope: text("scope").notNull(),
    windowStart: integer("window_start").notNull(),
    runId: text("run_id").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("uq_workflow_throttle_hit").on(t.tenantId, t.scope, t.windowStart, t.runId), index("idx_workflow_throttle_created").on(t.createdAt)],
);
