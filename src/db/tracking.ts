/**
 * Herald's own engagement counters and the suppression list. The statements that apply provider
 * receipts live in receipts.ts.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Channel } from "../domain";
import type { Db } from "./client";
import { communicationRef } from "./communications";
import { communication, suppression } from "./schema";

export type SuppressionRow = typeof suppression.$inferSelect;

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
