/**
 * Recipients' communication preferences (seed §2.4) and their consent audit trail. A recipient is
 * whatever the tenant calls one (`customer`, `user`, …) plus its id. Channel switches are
 * nullable: null means "the tenant's default".
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Channel } from "../../domain";
import type { QuietHours } from "../../preferences/quiet-hours";

export const recipientPreference = sqliteTable(
  "recipient_preference",
  {
    tenantId: text("tenant_id").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id").notNull(),
    emailEnabled: integer("email_enabled", { mode: "boolean" }),
    smsEnabled: integer("sms_enabled", { mode: "boolean" }),
    whatsappEnabled: integer("whatsapp_enabled", { mode: "boolean" }),
    messengerEnabled: integer("messenger_enabled", { mode: "boolean" }),
    pushEnabled: integer("push_enabled", { mode: "boolean" }),
    inAppEnabled: integer("in_app_enabled", { mode: "boolean" }),
    slackEnabled: integer("slack_enabled", { mode: "boolean" }),
    teamsEnabled: integer("teams_enabled", { mode: "boolean" }),
    discordEnabled: integer("discord_enabled", { mode: "boolean" }),
    telegramEnabled: integer("telegram_enabled", { mode: "boolean" }),
    /** Message type → the channels the recipient wants it on, e.g. { invoice: ["email"] }. */
    preferences: text("preferences", { mode: "json" }).$type<Record<string, Channel[]>>(),
    preferredEmail: text("preferred_email"),
    preferredPhone: text("preferred_phone"),
    preferredWhatsapp: text("preferred_whatsapp"),
    preferredMessengerId: text("preferred_messenger_id"),
    /** Chat addresses as sends take them (src/channels/chat/common.ts): a Slack id or webhook URL, a Telegram chat id… */
    preferredSlack: text("preferred_slack"),
    preferredTeams: text("preferred_teams"),
    preferredDiscord: text("preferred_discord"),
    preferredTelegram: text("preferred_telegram"),
    /** Channels on which the recipient withdrew consent to marketing (one-click unsubscribe). */
    marketingRevoked: text("marketing_revoked", { mode: "json" }).$type<Channel[]>(),
    optedOutAt: integer("opted_out_at", { mode: "timestamp_ms" }),
    optedOutReason: text("opted_out_reason"),
    locale: text("locale"),
    timezone: text("timezone"),
    quietHours: text("quiet_hours", { mode: "json" }).$type<QuietHours | null>(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.entityType, t.entityId] })],
);

export const consent = sqliteTable(
  "consent",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    /** What the consent covers: all messages on the channel, or marketing only. */
    scope: text("scope").$type<"all" | "marketing">().notNull(),
    status: text("status").$type<"granted" | "revoked">().notNull(),
    source: text("source").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("idx_consent_recipient").on(t.tenantId, t.entityType, t.entityId, t.createdAt)],
);
