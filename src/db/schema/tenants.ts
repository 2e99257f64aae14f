/** Tenants and the API keys that act for them. Keys are stored only as SHA-256 hashes. */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Channel } from "../../domain";

export type TenantSettings = {
  /** Who tracks email opens and clicks: the provider (its own settings), Herald, or nobody. */
  tracking?: "provider" | "herald" | "off";
  /** Days a communication keeps its content and contacts; null or absent: kept. */
  retentionDays?: number | null;
  /**
   * How each channel picks its first provider: in priority order (the default), or by the
   * providers' `weight` settings, spreading traffic; the rest follow in priority order as failover.
   */
  routing?: Partial<Record<Channel, "priority" | "weighted">>;
  /** Delivery-receipt window per message type, in seconds: silent providers are failed over. */
  receiptWindows?: Record<string, number>;
  /**
   * Recipients' preferred contacts (email, phone, WhatsApp, Messenger id) stored sealed with the
   * tenant's data key (src/preferences/contact-sealing.ts); absent: plain.
   */
  encryptContacts?: boolean;
  /** Defaults for recipients without their own, and which message types are which. */
  preferences?: {
    timezone?: string;
    quietHours?: { start: string; end: string } | null;
    /** Types that bypass type and channel preferences (never an opt-out): password resets, codes. */
    requiredTypes?: string[];
    /** Types that are marketing: they carry one-click unsubscribe and need marketing consent. */
    marketingTypes?: string[];
  };
  /** The hosted preference center's look: the name shown (else the tenant's), a logo, an accent colour (#rrggbb). */
  branding?: { name?: string | null; logoUrl?: string | null; primaryColor?: string | null };
  /** Two-way conversations (src/conversations): the HELP answer, tenant keywords, the reply domain. */
  conversations?: {
    helpText?: string;
    /** An inbound message that is exactly this word (case-insensitive) emits the business event. */
    keywords?: { keyword: string; event: string }[];
    /** The domain whose `reply+<token>@` addresses route email replies back (Email Routing). */
    replyDomain?: string;
  };
};

export const tenant = sqliteTable("tenant", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  settings: text("settings", { mode: "json" }).$type<TenantSettings>(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  /**
   * Moves on every control-plane write (settings, providers, templates, webhook endpoints, keys):
   * isolates compare it with the one their cached snapshot was read at (src/cache/tenant-config.ts).
   */
  configVersion: integer("config_version").notNull().default(0),
});

export const apiKey = sqliteTable(
  "api_key",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    name: text("name").notNull(),
    /** First characters of the key, shown in listings so people can tell keys apart. */
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull().unique(),
    /** What the key may do (src/api/scopes.ts); `*` is full access. */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull().default(["*"]),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    /** Optional end of life; rotation sets it on the old key to give callers an overlap. */
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    /** Refreshed at most every KEY_TTL_MS per isolate, not on every request. */
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("idx_api_key_tenant").on(t.tenantId)],
);
