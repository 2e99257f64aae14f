/**
 * Automation (issue 9): the tenant's business events, the trigger rules they fire, the reminder
 * sequences that run per entity, and the digests that collapse bursts of events into one message.
 * Herald does not own invoices or stock; it keeps only what it needs to run the communication side.
 * The cron passes claim rows here with conditional updates (`claimed_at` is the claim's token).
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { EventRecipient } from "../../automation/event";
import type { RuleAction, RuleCondition, SendStep } from "../../automation/rule";

export type BusinessEventStatus = "pending" | "processing" | "processed";
export type EventOutcome = {
  rules: { ruleId: string; name: string; outcome: string }[];
  communications: string[];
  errors: { ruleId: string; field?: string; message: string }[];
};

export const businessEvent = sqliteTable(
  "business_event",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    type: text("type").notNull(),
    entityType: text("entity_type"),
    entityId: text("entity_id"),
    recipients: text("recipients", { mode: "json" }).$type<EventRecipient[]>().notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    occurredAt: integer("occurred_at", { mode: "timestamp_ms" }).notNull(),
    /** The tenant's own key for the event: a repeat is accepted once. */
    idempotencyKey: text("idempotency_key"),
    status: text("status").$type<BusinessEventStatus>().notNull(),
    outcome: text("outcome", { mode: "json" }).$type<EventOutcome>(),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
    claimedAt: integer("claimed_at", { mode: "timestamp_ms" }),
    processedAt: integer("processed_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("uq_business_event_key").on(t.tenantId, t.idempotencyKey),
    index("idx_business_event_tenant_received").on(t.tenantId, t.receivedAt),
    index("idx_business_event_tenant_entity").on(t.tenantId, t.entityType, t.entityId),
    // The recovery and retention passes scan by status and age across tenants.
    index("idx_business_event_status_received").on(t.status, t.receivedAt),
  ],
);

export const triggerRule = sqliteTable(
  "trigger_rule",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    /** The shipped workflow this rule was enabled from, if any. */
    preset: text("preset"),
    eventType: text("event_type").notNull(),
    conditions: text("conditions", { mode: "json" }).$type<RuleCondition[]>().notNull(),
    action: text("action", { mode: "json" }).$type<RuleAction>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("idx_trigger_rule_tenant_event").on(t.tenantId, t.eventType)],
);

export type ReminderStatus = "active" | "completed" | "cancelled";
/** One step of a sequence as it happened: `sent` made communications, `skipped` made none (why in `error`). */
export type ReminderStepLog = { step: number; dueAt: string; at: string; status: "sent" | "skipped"; communicationIds: string[]; error: string | null };

export const reminderSequence = sqliteTable(
  "reminder_sequence",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** Names the sequence within its entity ("collection"): one active sequence per name and entity. */
    name: text("name").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id").notNull(),
    recipient: text("recipient", { mode: "json" }).$type<EventRecipient>().notNull(),
    variables: text("variables", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    steps: text("steps", { mode: "json" }).$type<SendStep[]>().notNull(),
    firstAt: integer("first_at", { mode: "timestamp_ms" }).notNull(),
    everyDays: integer("every_days"),
    offsetsDays: text("offsets_days", { mode: "json" }).$type<number[]>(),
    maxSteps: integer("max_steps").notNull(),
    /** Event types that stop the sequence when they arrive for the same entity. */
    cancelOn: text("cancel_on", { mode: "json" }).$type<string[]>().notNull(),
    status: text("status").$type<ReminderStatus>().notNull(),
    stepsSent: integer("steps_sent").notNull(),
    nextAt: integer("next_at", { mode: "timestamp_ms" }),
    claimedAt: integer("claimed_at", { mode: "timestamp_ms" }),
    triggerRuleId: text("trigger_rule_id"),
    cancelledAt: integer("cancelled_at", { mode: "timestamp_ms" }),
    cancelReason: text("cancel_reason"),
    /** Why the last step sent nothing (no contact, a missing variable, over quota); null when it went out. */
    lastError: text("last_error"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    /** The schedule in seconds (every / offsets as durations); null on rows from before 0024, which use the day fields. */
    everySeconds: integer("every_seconds"),
    offsetsSeconds: text("offsets_seconds", { mode: "json" }).$type<number[]>(),
    /** What each step did, appended in the batch that advances the sequence (the run view). */
    stepLog: text("step_log", { mode: "json" }).$type<ReminderStepLog[]>().notNull().default([]),
    cancelledByEventType: text("cancelled_by_event_type"),
    cancelledByEventId: text("cancelled_by_event_id"),
    /** The workflow run whose start_reminder step started the sequence. */
    workflowRunId: text("workflow_run_id"),
  },
  (t) => [
    uniqueIndex("uq_reminder_active").on(t.tenantId, t.entityType, t.entityId, t.name).where(sql`status = 'active'`),
    index("idx_reminder_tenant_entity").on(t.tenantId, t.entityType, t.entityId),
    index("idx_reminder_status_next").on(t.status, t.nextAt),
    index("idx_reminder_tenant_created").on(t.tenantId, t.id),
  ],
);

export type DigestStatus = "open" | "flushing" | "flushed";

export const digest = sqliteTable(
  "digest",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    triggerRuleId: text("trigger_rule_id").notNull(),
    /** `<type>/<id or contact>`: one open digest per rule and recipient. */
    recipientKey: text("recipient_key").notNull(),
    recipient: text("recipient", { mode: "json" }).$type<EventRecipient>().notNull(),
    entityType: text("entity_type"),
    entityId: text("entity_id"),
    /** Each event's data, in arrival order, capped; itemCount counts them all. */
    items: text("items", { mode: "json" }).$type<Record<string, unknown>[]>().notNull(),
    itemCount: integer("item_count").notNull(),
    status: text("status").$type<DigestStatus>().notNull(),
    closesAt: integer("closes_at", { mode: "timestamp_ms" }).notNull(),
    claimedAt: integer("claimed_at", { mode: "timestamp_ms" }),
    flushedAt: integer("flushed_at", { mode: "timestamp_ms" }),
    /** Why the flush sent nothing, if it did not. */
    error: text("error"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("uq_digest_open").on(t.tenantId, t.triggerRuleId, t.recipientKey).where(sql`status = 'open'`),
    index("idx_digest_status_closes").on(t.status, t.closesAt),
  ],
);
