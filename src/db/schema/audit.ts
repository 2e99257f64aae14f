/**
 * The audit trail (issues 10 and 14): who changed what in a tenant's configuration and data.
 * Append-only; details are small and masked (never credentials, secrets or whole contacts), so
 * entries outlive the communications they sit beside: the tenant's retention does not touch
 * them; the cron pass deletes entries older than AUDIT_RETENTION_DAYS (src/pipeline/retention.ts).
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** `recipient`: the recipient themselves, on the hosted preference center. */
export type AuditActor = "api_key" | "admin" | "recipient";

export const auditLog = sqliteTable(
  "audit_log",
  {
    /** UUIDv7: sorts by time, and is the cursor for paging newest-first. */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    actorType: text("actor_type").$type<AuditActor>().notNull(),
    /** The API key's id (null for the operator's admin token). */
    actorId: text("actor_id"),
    /** The API key's name at the time, or "admin". */
    actorName: text("actor_name").notNull(),
    /** `<resource>.<verb>`, e.g. provider.created, key.revoked (src/api/audit.ts). */
    action: text("action").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
    requestId: text("request_id"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("idx_audit_tenant_id").on(t.tenantId, t.id),
    index("idx_audit_tenant_action").on(t.tenantId, t.action, t.id),
    index("idx_audit_created").on(t.createdAt),
  ],
);
