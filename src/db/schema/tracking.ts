/**
 * What delivery tracking keeps: the suppression list, daily stats rollups (so stats never scan
 * the ledger), and the tenant's own webhook endpoints with their delivery log.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Channel } from "../../domain";
import { tenant } from "./tenants";

export const suppression = sqliteTable(
  "suppression",
  {
    tenantId: text("tenant_id").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    contact: text("contact").notNull(),
    /** bounce, complaint, unsubscribe, opt_out, invalid, manual */
    reason: text("reason").notNull(),
    detail: text("detail"),
    source: text("source").notNull(),
    communicationId: text("communication_id"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.channel, t.contact] })],
);

/**
 * Counts per tenant, day of acceptance (UTC), channel and type, of communications that reached
 * each state. Incremented by the transition that reached it, so a rate is a ratio of two sums.
 */
export const communicationStats = sqliteTable(
  "communication_stats",
  {
    tenantId: text("tenant_id").notNull(),
    day: text("day").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    type: text("type").notNull(),
    accepted: integer("accepted").notNull().default(0),
    sent: integer("sent").notNull().default(0),
    delivered: integer("delivered").notNull().default(0),
    opened: integer("opened").notNull().default(0),
    clicked: integer("clicked").notNull().default(0),
    bounced: integer("bounced").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    suppressed: integer("suppressed").notNull().default(0),
    cancelled: integer("cancelled").notNull().default(0),
    /** Sum and count of accept-to-sent latency, for the average. */
    sendLatencyMs: integer("send_latency_ms").notNull().default(0),
    sendLatencyCount: integer("send_latency_count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day, t.channel, t.type] })],
);

/**
 * Provider cost per tenant, day of acceptance (UTC), channel and currency: summed by the send
 * that incurred it, so /stats reads days, not messages. Its own table because a tenant may price
 * providers in different currencies, and amounts in two currencies never add up.
 */
export const communicationCostStats = sqliteTable(
  "communication_cost_stats",
  {
    tenantId: text("tenant_id").notNull(),
    day: text("day").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    currency: text("currency").notNull(),
    /** Millionths of the currency unit. */
    costMicros: integer("cost_micros").notNull().default(0),
    /** How many sends the sum covers. */
    priced: integer("priced").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day, t.channel, t.currency] })],
);

export const webhookEndpoint = sqliteTable(
  "webhook_endpoint",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    url: text("url").notNull(),
    description: text("description"),
    eventTypes: text("event_types", { mode: "json" }).$type<string[]>().notNull(),
    /** Sealed like provider credentials; shown once at creation. */
    secret: text("secret").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("idx_webhook_endpoint_tenant").on(t.tenantId)],
);

export const webhookDelivery = sqliteTable(
  "webhook_delivery",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    endpointId: text("endpoint_id").notNull(),
    /** The Standard Webhooks `webhook-id`: stable per event, so receivers can dedupe. */
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: text("payload").notNull(),
    /** pending, succeeded, failed */
    status: text("status").$type<"pending" | "succeeded" | "failed">().notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    /** What the payload is about, for erasure: the communication, or a message's conversation. */
    subjectId: text("subject_id"),
    /** Set once the payload is a stub (src/db/webhook-privacy.ts); it is never sent again. */
    redacted: text("redacted").$type<"erased" | "expired">(),
  },
  (t) => [
    index("idx_webhook_delivery_endpoint").on(t.tenantId, t.endpointId, t.createdAt),
    index("idx_webhook_delivery_subject").on(t.tenantId, t.subjectId),
    index("idx_webhook_delivery_tenant_created").on(t.tenantId, t.createdAt),
    // The events sweep (src/pipeline/events-sweep.ts) finds pending deliveries nothing has touched
    // for a while, across tenants, from this index alone; its query repeats the WHERE verbatim.
    index("idx_webhook_delivery_pending").on(t.updatedAt).where(sql`${t.status} = 'pending'`),
  ],
);

/** Per provider config and day: how often silent failover left it behind. */
export const providerStats = sqliteTable(
  "provider_stats",
  {
    tenantId: text("tenant_id").notNull(),
    day: text("day").notNull(),
    providerConfigId: text("provider_config_id").notNull(),
    provider: text("provider").notNull(),
    silentFailovers: integer("silent_failovers").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day, t.providerConfigId] })],
);
