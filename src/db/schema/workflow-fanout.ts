/**
 * Audience triggers of a workflow (issue 23): one row per `POST /api/workflows/:key/trigger` with
 * an `audienceId`. The fan-out pages the audience's members in recipient order through the
 * campaigns queue (src/workflows/fanout.ts), and this row is both its cursor and its progress:
 * how many members the audience had when triggered, how many runs started, how many members
 * could not become a recipient, and whether it is still paging.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { tenant } from "./tenants";

export const FANOUT_STATES = ["running", "completed", "cancelled"] as const;
export type FanoutState = (typeof FANOUT_STATES)[number];

export const workflowFanout = sqliteTable(
  "workflow_fanout",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    workflowKey: text("workflow_key").notNull(),
    /** The version active at the trigger: every run of the fan-out starts on it. */
    version: integer("version").notNull(),
    audienceId: text("audience_id").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    actor: text("actor", { mode: "json" }).$type<{ type: string; id: string; name?: string } | null>(),
    /** The trigger's key, or the fan-out's id when none was given: runs' keys derive from it per recipient. */
    idempotencyKey: text("idempotency_key").notNull(),
    cancellationKey: text("cancellation_key"),
    state: text("state").$type<FanoutState>().notNull(),
    /** Members when triggered; members added later in recipient order are still reached. */
    total: integer("total").notNull(),
    started: integer("started").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    /** The last member paged (recipient order); null before the first page. */
    cursorType: text("cursor_type"),
    cursorId: text("cursor_id"),
    lastError: text("last_error"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("uq_workflow_fanout_idempotency").on(t.tenantId, t.workflowKey, t.idempotencyKey),
    index("idx_workflow_fanout_cancel").on(t.tenantId, t.cancellationKey),
  ],
);
