/**
 * Expiry of rows that only matter for a while (idempotency records, chunk records, audit entries):
 * a bounded delete of the oldest rows by creation time. Cross-tenant on purpose: only the cron's
 * expiry pass calls it, with a cut-off that is the same for every tenant.
 */
import { sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";

/** Deletes up to `limit` rows of `table` created before `before`; returns how many went. */
export async function deleteCreatedBefore(db: Db, table: SQLiteTable, createdAt: SQLiteColumn, before: Date, limit: number): Promise<number> {
  const res = await db.run(sql`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${createdAt} < ${before.getTime()} LIMIT ${limit})`);
  return res.meta.changes ?? 0;
}
