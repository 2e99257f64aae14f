/**
 * The send ledger (seed §2.1): one row per communication, its timeline of events, and the
 * idempotency keys that make retried API calls safe. D1 is the source of truth; the queue only
 * carries ids.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Channel, CommunicationStatus, EventKind, Priority } from "../../domain";
import { tenant } from "./tenants";

/**
 * One attachment as stored. Small inline content stays in the row; larger content lives in the
 * ATTACHMENTS bucket under `storageKey` (D1 rows and queue messages have hard size caps); a
 * `fileUrl` is fetched at delivery, by Herald or by the provider. `size` is in decoded bytes,
 * known for inline and stored content.
 */
export type Attachment = { filename: string; fileUrl?: string; content?: string; mimeType?: string; size?: number; storageKey?: string };

export const communication = sqliteTable(
  "communication",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    /** The API key that created it (the seed's created_by). */
    createdBy: text("created_by"),
    recipientType: text("recipient_type").notNull(),
    recipientId: text("recipient_id"),
    recipientName: text("recipient_name"),
    recipientContact: text("recipient_contact").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    type: text("type").notNull(),
    subject: text("subject"),
    content: text("content").notNull(),
    /** Plain-text alternative of an HTML email, when the template gave or derived one. */
    textContent: text("text_content"),
    entityType: text("entity_type"),
    entityId: text("entity_id"),
    templateId: text("template_id"),
    /** The exact template version rendered, so "what did this customer receive?" has an answer. */
    templateVersion: integer("template_version"),
    locale: text("locale"),
    templateVariables: text("template_variables", { mode: "json" }).$type<Record<string, unknown>>(),
    attachments: text("attachments", { mode: "json" }).$type<Attachment[]>(),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    status: text("status").$type<CommunicationStatus>().notNull(),
    priority: text("priority").$type<Priority>().notNull(),
    scheduledAt: integer("scheduled_at", { mode: "timestamp_ms" }),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
    openedAt: integer("opened_at", { mode: "timestamp_ms" }),
    clickedAt: integer("clicked_at", { mode: "timestamp_ms" }),
    bouncedAt: integer("bounced_at", { mode: "timestamp_ms" }),
    failedAt: integer("failed_at", { mode: "timestamp_ms" }),
    cancelledAt: integer("cancelled_at", { mode: "timestamp_ms" }),
    errorMessage: text("error_message"),
    provider: text("provider"),
    providerConfigId: text("provider_config_id"),
    providerMessageId: text("provider_message_id"),
    providerResponse: text("provider_response", { mode: "json" }).$type<unknown>(),
    /** What the provider send cost, in millionths of `costCurrency` (src/channels/pricing.ts). */
    costMicros: integer("cost_micros"),
    costCurrency: text("cost_currency"),
    /** Every open and click Herald's own tracking saw, repeats included. */
    openCount: integer("open_count").notNull().default(0),
    clickCount: integer("click_count").notNull().default(0),
    /** This send's delivery-receipt window (silent failover); null: the tenant's setting for its type. */
    receiptWindowSeconds: integer("receipt_window_seconds"),
    retryCount: integer("retry_count").notNull().default(0),
    maxRetries: integer("max_retries").notNull(),
    nextRetryAt: integer("next_retry_at", { mode: "timestamp_ms" }),
    /** When a queue message was last sent for it; the sweep re-enqueues only stale ones. */
    enqueuedAt: integer("enqueued_at", { mode: "timestamp_ms" }),
    /** When the current delivery attempt claimed it (status `sending`). */
    claimedAt: integer("claimed_at", { mode: "timestamp_ms" }),
    originalCommunicationId: text("original_communication_id"),
    /** The campaign that created it (src/campaigns), and which A/B variant it got. */
    campaignId: text("campaign_id"),
    campaignVariant: text("campaign_variant"),
    /** The workflow run and step that sent it (src/workflows). */
    workflowRunId: text("workflow_run_id"),
    workflowStepId: text("workflow_step_id"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("idx_communication_tenant_created").on(t.tenantId, t.createdAt),
    index("idx_communication_tenant_status").on(t.tenantId, t.status),
    index("idx_communication_tenant_recipient").on(t.tenantId, t.recipientId),
    index("idx_communication_tenant_entity").on(t.tenantId, t.entityType, t.entityId),
    index("idx_communication_provider_message").on(t.providerMessageId),
    // Conversations: the latest send to a contact on a channel is what an inbound reply answers.
    index("idx_communication_tenant_contact").on(t.tenantId, t.channel, t.recipientContact, t.createdAt),
    // The sweep scans by status and age across tenants.
    index("idx_communication_status_enqueued").on(t.status, t.enqueuedAt),
    // A workflow run's sends, read fresh when a branch or escalation asks how they went.
    index("idx_communication_workflow_run").on(t.tenantId, t.workflowRunId),
    // One message per campaign, recipient and channel: a replayed fan-out chunk cannot send twice.
    // Rows without a campaign have a NULL campaign_id, which SQLite never counts as a duplicate.
    uniqueIndex("uq_communication_campaign_recipient").on(t.campaignId, t.recipientType, t.recipientId, t.channel),
  ],
);

export const communicationEvent = sqliteTable(
  "communication_event",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    communicationId: text("communication_id")
      .notNull()
      .references(() => communication.id),
    kind: text("kind").$type<EventKind>().notNull(),
    status: text("status").$type<CommunicationStatus>(),
    provider: text("provider"),
    providerConfigId: text("provider_config_id"),
    httpStatus: integer("http_status"),
    error: text("error"),
    latencyMs: integer("latency_ms"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
    /** A provider event's own id (SendGrid sg_event_id, Twilio sid+status): providers retry. */
    dedupeKey: text("dedupe_key"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("idx_event_communication").on(t.communicationId, t.createdAt),
    uniqueIndex("uq_event_dedupe").on(t.communicationId, t.dedupeKey),
  ],
);

export const idempotencyKey = sqliteTable(
  "idempotency_key",
  {
    tenantId: text("tenant_id").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: text("response_body").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  // By age, for the cron pass that expires keys (src/pipeline/retention.ts).
  (t) => [primaryKey({ columns: [t.tenantId, t.key] }), index("idx_idempotency_created").on(t.createdAt)],
);
