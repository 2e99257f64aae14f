/**
 * Recipients' push devices (issue 6). A device is one address push can reach: an FCM registration
 * token (Android, iOS through FCM, or a browser using FCM), an APNs device token, or a browser's
 * Web Push subscription. `address` is the token or the subscription endpoint; it is unique per
 * tenant, so registering the same device again updates it instead of adding a second one.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const PLATFORMS = ["ios", "android", "web"] as const;
export type Platform = (typeof PLATFORMS)[number];
/** How a device is reached, and so which provider kinds can reach it. */
export const TRANSPORTS = ["fcm", "apns", "webpush"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const device = sqliteTable(
  "device",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    recipientType: text("recipient_type").notNull(),
    recipientId: text("recipient_id").notNull(),
    platform: text("platform").$type<Platform>().notNull(),
    transport: text("transport").$type<Transport>().notNull(),
    /** The FCM or APNs token, or the Web Push subscription's endpoint. */
    address: text("address").notNull(),
    /** Web Push only: the subscription's keys (base64url), needed to encrypt for it. */
    p256dh: text("p256dh"),
    auth: text("auth"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("uq_device_address").on(t.tenantId, t.address),
    index("idx_device_recipient").on(t.tenantId, t.recipientType, t.recipientId),
  ],
);
