/**
 * Per-tenant retention: communications older than the tenant's `retentionDays` lose their
 * content and contacts in place (status, channel, type and times stay, and so do the stats).
 */
import { sql } from "drizzle-orm";
import type { Db } from "./client";
import type { Attachment, TenantSettings } from "./schema";
import { chunk } from "../lib/chunk";

import { REDACTED } from "./markers";

export const tenantsWithRetention = (db: Db, limit: number) =>
  db.all<{ id: string; settings: string }>(
    sql`SELECT id, settings FROM tenant WHERE json_extract(settings, '$.retentionDays') IS NOT NULL LIMIT ${limit}`,
  );

export const retentionDays = (raw: string) => (JSON.parse(raw) as TenantSettings).retentionDays ?? null;

/**
 * Redacts up to `limit` finished communications created before `cutoff`; returns their ids and
 * the storage keys of their attachments (read first: the update clears them), for the caller to
 * delete from the bucket.
 */
export async function redactBefore(db: Db, tenantId: string, cutoff: Date, limit: number): Promise<{ ids: string[]; storageKeys: string[] }> {
  const due = await db.all<{ id: string; attachments: string | null }>(sql`
    SELECT id, attachments FROM communication
    WHERE tenant_id = ${tenantId} AND created_at < ${cutoff.getTime()} AND content != ${REDACTED}
      AND status NOT IN ('scheduled', 'queued', 'sending')
    LIMIT ${limit}`);
  const ids = due.map((r) => r.id);
  for (const part of chunk(ids, 90)) {
    await db.run(sql`
      UPDATE communication SET recipient_contact = ${REDACTED}, recipient_name = NULL, subject = NULL, content = ${REDACTED},
        text_content = NULL, template_variables = NULL, attachments = NULL, metadata = NULL, error_message = NULL, provider_response = NULL
      WHERE tenant_id = ${tenantId} AND id IN (${sql.join(part.map((id) => sql`${id}`), sql`, `)})`);
  }
  const storageKeys = due.flatMap((r) => ((r.attachments ? JSON.parse(r.attachments) : []) as Attachment[]).flatMap((a) => (a.storageKey ? [a.storageKey] : [])));
  return { ids, storageKeys };
}
