/**
 * Applying provider events and keeping the suppression list. Event statements are plain SQL so a
 * whole webhook batch runs as one D1 batch: each event finds its communication by our id or the
 * provider's, moves its status only when the transition rule allows it (the guard is in the
 * WHERE clause, so concurrent writers cannot race it), and RETURNING says which moves happened.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { ProviderEvent } from "../channels/types";
import type { Channel } from "../domain";
import { uuidv7 } from "../lib/ids";
import { canMoveSql, TIMESTAMP_COLUMN } from "../pipeline/status";
import type { Db } from "./client";
import { communicationRef } from "./communications";
import { communication, suppression } from "./schema";

export type SuppressionRow = typeof suppression.$inferSelect;

/** Our own id when the event carries it; otherwise the provider's id, within the same config. */
const MATCH =
  "tenant_id = ?1 AND id = COALESCE(?2, (SELECT id FROM communication WHERE tenant_id = ?1 AND provider_config_id = ?3 AND provider_message_id = ?4 LIMIT 1))";

export type AppliedMove = { id: string; tenant_id: string; channel: Channel; type: string; created_at: number; status: string };

/** Three statements per event: status move, timeline entry (deduplicated), suppression. */
export function eventStatements(d1: D1Database, tenantId: string, configId: string | null, provider: string, e: ProviderEvent, now: Date): D1PreparedStatement[] {
  const match = [tenantId, e.communicationId, configId, e.providerMessageId] as const;
  const statements: D1PreparedStatement[] = [];
  if (e.status) {
    const ts = TIMESTAMP_COLUMN[e.status];
    const ending = e.status === "failed" || e.status === "bounced";
    statements.push(
      d1
        .prepare(
          `UPDATE communication SET status = ?5, ${ts} = COALESCE(${ts}, ?6), updated_at = ?7` +
            (ending ? ", error_message = ?8" : "") +
            // After a silent failover, whichever provider's receipt comes first is the one that delivered.
            (e.status === "delivered" && configId ? ", provider_config_id = ?3, provider = ?8" : "") +
            ` WHERE ${MATCH} AND ${canMoveSql(e.status)}` +
            " RETURNING id, tenant_id, channel, type, created_at, status",
        )
        .bind(
          ...match,
          e.status,
          e.occurredAt.getTime(),
          now.getTime(),
          ...(ending ? [e.error ?? `${provider}: ${e.name}`] : e.status === "delivered" && configId ? [provider] : []),
        ),
    );
  }
  statements.push(
    d1
      .prepare(
        "INSERT INTO communication_event (id, tenant_id, communication_id, kind, status, provider, provider_config_id, error, detail, dedupe_key, created_at) " +
          `SELECT ?5, tenant_id, id, 'provider_event', ?6, ?7, ?3, ?8, ?9, ?10, ?11 FROM communication WHERE ${MATCH} ` +
          "ON CONFLICT DO NOTHING",
      )
      .bind(...match, uuidv7(now.getTime()), e.status, provider, e.error ?? null, JSON.stringify({ event: e.name, ...e.detail }), e.dedupeKey, e.occurredAt.getTime()),
  );
  if (e.suppress) {
    statements.push(
      d1
        .prepare(
          "INSERT INTO suppression (tenant_id, channel, contact, reason, detail, source, communication_id, created_at) " +
            `SELECT tenant_id, channel, recipient_contact, ?5, ?6, ?7, id, ?8 FROM communication WHERE ${MATCH} ` +
            "ON CONFLICT DO NOTHING",
        )
        .bind(...match, e.suppress.reason, e.suppress.detail ?? null, provider, now.getTime()),
    );
  }
  return statements;
}

/** Counts one more open or click seen by Herald's own tracking. */
export const countEngagement = (d1: D1Database, tenantId: string, id: string, status: "opened" | "clicked") =>
  d1
    .prepare(`UPDATE communication SET ${status === "opened" ? "open_count = open_count" : "click_count = click_count"} + 1 WHERE tenant_id = ?1 AND id = ?2`)
    .bind(tenantId, id);

/**
 * The suppressions that apply to each of these communications (same tenant, channel and contact),
 * with the communication's id: one read for a whole queue batch.
 */
export const suppressionsFor = (db: Db, communicationIds: string[]) =>
  db
    .select({ communicationId: communicationRef, suppression })
    .from(suppression)
    .innerJoin(
      communication,
      and(eq(communication.tenantId, suppression.tenantId), eq(communication.channel, suppression.channel), eq(communication.recipientContact, suppression.contact)),
    )
    .where(inArray(communication.id, communicationIds));

export function listSuppressions(db: Db, tenantId: string, f: { channel?: Channel; contact?: string }, limit: number, offset: number) {
  const conditions = [eq(suppression.tenantId, tenantId)];
  if (f.channel) conditions.push(eq(suppression.channel, f.channel));
  if (f.contact) conditions.push(eq(suppression.contact, f.contact));
  return db
    .select()
    .from(suppression)
    .where(and(...conditions))
    .orderBy(asc(suppression.createdAt))
    .limit(limit)
    .offset(offset)
    .all();
}

export const upsertSuppression = (db: Db, row: SuppressionRow) =>
  db
    .insert(suppression)
    .values(row)
    .onConflictDoUpdate({ target: [suppression.tenantId, suppression.channel, suppression.contact], set: { reason: row.reason, detail: row.detail, source: row.source, createdAt: row.createdAt } });

/** A START reply lifts the opt-out it answers, not a bounce or a manual entry. */
export const liftOptOut = (db: Db, tenantId: string, channel: Channel, contact: string) =>
  db
    .delete(suppression)
    .where(and(eq(suppression.tenantId, tenantId), eq(suppression.channel, channel), eq(suppression.contact, contact), eq(suppression.reason, "opt_out")));

export async function deleteSuppression(db: Db, tenantId: string, channel: Channel, contact: string) {
  const rows = await db
    .delete(suppression)
    .where(and(eq(suppression.tenantId, tenantId), eq(suppression.channel, channel), eq(suppression.contact, contact)))
    .returning({ contact: suppression.contact });
  return rows.length > 0;
}
