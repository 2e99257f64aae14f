/**
 * Audiences and campaigns (issue #13). An audience is a tenant's list or topic of recipients,
 * each member with optional inline contacts; a campaign sends one message (or A/B variants) to
 * an audience, fanned out in chunks whose position is the campaign's member cursor. The
 * communications a campaign creates carry its id (communication.campaign_id).
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Channel } from "../../domain";
import { tenant } from "./tenants";

export const AUDIENCE_KINDS = ["list", "topic"] as const;
export type AudienceKind = (typeof AUDIENCE_KINDS)[number];

export const audience = sqliteTable(
  "audience",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    kind: text("kind").$type<AudienceKind>().notNull(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("uq_audience_tenant_name").on(t.tenantId, t.name)],
);

/**
 * One recipient in an audience. The primary key orders members by recipient, which is the
 * order a campaign walks them in (its cursor is the last recipient done).
 */
export const audienceMember = sqliteTable(
  "audience_member",
  {
    tenantId: text("tenant_id").notNull(),
    audienceId: text("audience_id")
      .notNull()
      .references(() => audience.id, { onDelete: "cascade" }),
    recipientType: text("recipient_type").notNull(),
    recipientId: text("recipient_id").notNull(),
    name: text("name"),
    /** Inline contacts; without them the recipient's preferred contacts are used. */
    email: text("email"),
    phone: text("phone"),
    /** Template variables for this member (first name, plan ...). */
    variables: text("variables", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.audienceId, t.recipientType, t.recipientId] })],
);

export const CAMPAIGN_STATUSES = ["draft", "scheduled", "sending", "paused", "testing", "completed", "cancelled"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
/** `test`: the A/B variants go to the test share; `main`: everyone else gets the (winning) message. */
export type CampaignPhase = "test" | "main";
export type WinnerMetric = "opened" | "clicked" | "delivered";
export type CampaignVariant = { name: string; templateId?: string; templateCode?: string; subject?: string; content?: string };

export const campaign = sqliteTable(
  "campaign",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    createdBy: text("created_by"),
    name: text("name").notNull(),
    audienceId: text("audience_id").notNull(),
    channel: text("channel").$type<Channel | "auto">().notNull(),
    type: text("type").notNull(),
    variants: text("variants", { mode: "json" }).$type<CampaignVariant[]>().notNull(),
    templateVariables: text("template_variables", { mode: "json" }).$type<Record<string, unknown>>(),
    /** Percent of the audience that gets the A/B test (0: no test). */
    testPercent: integer("test_percent").notNull().default(0),
    testDurationMinutes: integer("test_duration_minutes"),
    winnerMetric: text("winner_metric").$type<WinnerMetric>(),
    winner: text("winner"),
    winnerPickedBy: text("winner_picked_by"),
    status: text("status").$type<CampaignStatus>().notNull(),
    phase: text("phase").$type<CampaignPhase>().notNull(),
    /** Messages per minute; null: as fast as the pipeline goes. */
    sendRate: integer("send_rate"),
    scheduledAt: integer("scheduled_at", { mode: "timestamp_ms" }),
    /** The last member (recipientType, recipientId) the current phase has done; null: none yet. */
    cursorType: text("cursor_type"),
    cursorId: text("cursor_id"),
    /** When the next chunk message is due; the cron restarts a chain that is overdue (lost message). */
    nextChunkAt: integer("next_chunk_at", { mode: "timestamp_ms" }),
    /** Members walked, and those for whom no message could be made (no contact, no template ...). */
    processed: integer("processed").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    lastError: text("last_error"),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    testEndsAt: integer("test_ends_at", { mode: "timestamp_ms" }),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
    cancelledAt: integer("cancelled_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("idx_campaign_tenant_created").on(t.tenantId, t.createdAt),
    // The cron looks for due, stalled and finished-test campaigns across tenants.
    index("idx_campaign_status").on(t.status),
  ],
);

/**
 * One row per fan-out chunk done: (campaign, phase, the cursor it started from). Written in the
 * same D1 transaction as the chunk's communications, so a replayed or concurrent chunk message
 * fails as a whole on this key and creates nothing.
 */
export const campaignChunk = sqliteTable(
  "campaign_chunk",
  {
    campaignId: text("campaign_id").notNull(),
    phase: text("phase").$type<CampaignPhase>().notNull(),
    /** `recipientType \0 recipientId` of the member the chunk started after; "" for the first. */
    after: text("after").notNull(),
    tenantId: text("tenant_id").notNull(),
    communications: integer("communications").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  // By age: the cron pass prunes chunk records long after any message that could replay them.
  (t) => [primaryKey({ columns: [t.campaignId, t.phase, t.after] }), index("idx_campaign_chunk_created").on(t.createdAt)],
);
