/**
 * Digests: one open row per rule and recipient collects events until its window closes. Appending
 * is one upsert (SQLite appends to the JSON array atomically). The flush claims a closed digest by
 * moving it to `flushing`, which also frees the slot so later events open a new digest instead of
 * landing in one that is being sent.
 */
import { and, asc, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { digest } from "./schema";

export type DigestRow = typeof digest.$inferSelect;

/** Items kept per digest; `itemCount` still counts every event. */
export const MAX_DIGEST_ITEMS = 50;

export const appendToDigest = (db: Db, row: DigestRow) =>
  db
    .insert(digest)
    .values(row)
    .onConflictDoUpdate({
      target: [digest.tenantId, digest.triggerRuleId, digest.recipientKey],
      targetWhere: sql`status = 'open'`,
      set: {
        items: sql`CASE WHEN json_array_length(${digest.items}) < ${MAX_DIGEST_ITEMS} THEN json_insert(${digest.items}, '$[#]', json(json_extract(excluded.items, '$[0]'))) ELSE ${digest.items} END`,
        itemCount: sql`${digest.itemCount} + 1`,
      },
    });

const closed = (now: Date, staleBefore: Date) =>
  or(
    and(eq(digest.status, "open"), lte(digest.closesAt, now)),
    and(eq(digest.status, "flushing"), or(isNull(digest.claimedAt), lte(digest.claimedAt, staleBefore))),
  );

export const findClosedDigests = (db: Db, now: Date, staleBefore: Date, limit: number) =>
  db.select({ id: digest.id, tenantId: digest.tenantId }).from(digest).where(closed(now, staleBefore)).orderBy(asc(digest.closesAt)).limit(limit).all();

export const claimDigest = (db: Db, c: { tenantId: string; id: string }, now: Date, staleBefore: Date) =>
  db
    .update(digest)
    .set({ status: "flushing", claimedAt: now })
    .where(and(eq(digest.tenantId, c.tenantId), eq(digest.id, c.id), closed(now, staleBefore)))
    .returning()
    .get();

export const markFlushed = (db: Db, claimed: DigestRow, error: string | null, now: Date) =>
  db
    .update(digest)
    .set({ status: "flushed", flushedAt: now, error })
    .where(and(eq(digest.tenantId, claimed.tenantId), eq(digest.id, claimed.id), eq(digest.claimedAt, claimed.claimedAt!)));

export async function deleteFlushedDigests(db: Db, before: Date, limit: number) {
  const res = await db.run(
    sql`DELETE FROM ${digest} WHERE ${digest.id} IN (SELECT ${digest.id} FROM ${digest} WHERE ${digest.status} = 'flushed' AND ${digest.flushedAt} <= ${before.getTime()} LIMIT ${limit})`,
  );
  return res.meta.changes ?? 0;
}
