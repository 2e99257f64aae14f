/**
 * A tenant's provider configurations: which provider serves which channel, in what order.
 * Credentials are AES-GCM ciphertext (see src/lib/crypto.ts); settings are plain JSON.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Channel } from "../../domain";
import type { ProviderKind } from "../../channels/kinds";
import { tenant } from "./tenants";

export const providerConfig = sqliteTable(
  "provider_config",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    channel: text("channel").$type<Channel>().notNull(),
    provider: text("provider").$type<ProviderKind>().notNull(),
    /** Lower goes first; failover walks up. */
    priority: integer("priority").notNull(),
    credentials: text("credentials").notNull(),
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** Delivery receipts this provider failed to send in time, in a row (reset by any receipt). */
    silentStreak: integer("silent_streak").notNull().default(0),
    /** Failed calls (timeouts, 5xx, 429, refused credentials) in a row (reset by an accepted send). */
    failureStreak: integer("failure_streak").notNull().default(0),
    /** While set and in the future, the provider goes last in failover order (circuit breaker). */
    breakerOpenUntil: integer("breaker_open_until", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("idx_provider_tenant_channel").on(t.tenantId, t.channel, t.priority)],
);

/**
 * Nonces of provider webhook signatures already accepted (Mailgun's token, Svix's id, SNS's
 * MessageId, Vonage's nonce, a hash of SendGrid's timestamp and body), per config, until the
 * signature's replay window closes: a captured signature is then refused instead of applied
 * again. Rows past `expires_at` no longer count and the cron deletes them.
 */
export const webhookNonce = sqliteTable(
  "webhook_nonce",
  {
    /** The provider config whose secret made the signature. */
    scope: text("scope").notNull(),
    nonce: text("nonce").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.nonce] }), index("idx_webhook_nonce_expires").on(t.expiresAt)],
);
