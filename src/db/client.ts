/** drizzle over D1, and the helper that runs a list of statements as one D1 batch (one round trip, one transaction). */
import { drizzle } from "drizzle-orm/d1";
import type { BatchItem } from "drizzle-orm/batch";
import * as schema from "./schema";

export const database = (d1: D1Database) => drizzle(d1, { schema });
export type Db = ReturnType<typeof database>;

export async function runBatch(db: Db, statements: BatchItem<"sqlite">[]) {
  if (statements.length === 0) return [];
  return db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}

/** D1 reports constraint failures only through the message text. */
export const isUniqueViolation = (error: unknown) =>
  error instanceof Error && /UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(String(error.message) + String((error as { cause?: unknown }).cause ?? ""));
