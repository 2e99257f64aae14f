/**
 * Per-tenant retention: communications older than the tenant's `retentionDays` lose their
 * content and contacts in place (status, channel, type and times stay, and so do the stats).
 */
import { sql } from "drizzle-orm";
import type { Db } from "./client";
import type { TenantSettings } from "./schema";

export const REDACTED = "[redacted]";

export const tenantsWithRetention = (db: Db, limit: number) =>
  db.all<{ id: string; settings: string }>(
    sql`SELECT id, settings FROM tenant WHERE json_extract(settings, '$.retentionDays') IS NOT NULL LIMIT ${limit}`,
  );

export const retentionDays = (raw: string) => (JSON.parse(raw) as TenantSettings).retentionDays ?? null;

/** Redacts up to `limit` finished communications created before `cutoff`; returns their ids. */
export async function redactBefore(db: Db, tenantId: string, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`
    UPDATE communication SET recipient_contact = ${REDACTED}, recipient_name = NULL, subject = NULL, content = ${REDACTED},
      text_content = NULL, template_variables = NULL, attachments = NULL, metadata = NULL, error_message = NULL, provider_response = NULL
    WHERE id IN (
      SELECT id FROM communication
      WHERE tenant_id = ${tenantId} AND created_at < ${cutoff.getTime()} AND content != ${REDACTED}
        AND status NOT IN ('scheduled', 'queued', 'sending')
      LIMIT ${limit})
    RETURNING id`);
  return rows.map((r) => r.id);
}
