/**
 * Cancelling communications that have not started sending (`scheduled`, `queued`): rows move to
 * `cancelled` by one guarded update (a row a delivery attempt has claimed stays `sending`), and
 * each moved row gets its timeline entry, its stats and its announcement to tenant webhooks. Used
 * by `POST /api/communications/:id/cancel`, by stopped reminder sequences and by cancelled
 * workflow runs, whose pending sends stop with them.
 */
import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { CANCELLABLE, eventRow, insertEvent, type CommunicationRow } from "../db/communications";
import { communication } from "../db/schema";
import type { Env } from "../env";
import { announce, statsStatements, transitionOf } from "./transitions";

type Events = Pick<Env, "EVENT_QUEUE">;
/** D1 binds at most 100 parameters per statement. */
const CHUNK = 90;

/** Moves the tenant's pending rows matching `which`, then records and announces them; `detail` says who or what cancelled them. */
async function cancelWhere(env: Events, db: Db, tenantId: string, which: SQL, detail: Record<string, unknown>, now: Date): Promise<CommunicationRow[]> {
  const rows = await db
    .update(communication)
    .set({ status: "cancelled", cancelledAt: now, updatedAt: now })
    .where(and(eq(communication.tenantId, tenantId), which, inArray(communication.status, CANCELLABLE)))
    .returning();
  if (!rows.length) return rows;
  const moved = rows.map((r) => transitionOf(r, "cancelled", now));
  await runBatch(db, [
    ...rows.map((r) => insertEvent(db, eventRow({ tenantId, communicationId: r.id, kind: "status", status: "cancelled", detail, createdAt: now }))),
    ...statsStatements(db, moved),
  ]);
  await announce(env.EVENT_QUEUE, moved);
  return rows;
}

/** One communication by id; undefined when it is unknown or past cancelling. */
export const cancelOne = async (env: Events, db: Db, tenantId: string, id: string, detail: Record<string, unknown>, now = new Date()) =>
  (await cancelWhere(env, db, tenantId, eq(communication.id, id), detail, now))[0];

/** The pending rows whose `column` is one of `values`, CHUNK per statement; answers how many were cancelled. */
async function cancelIn(env: Events, db: Db, tenantId: string, column: AnySQLiteColumn, values: string[], detail: Record<string, unknown>, now: Date) {
  let cancelled = 0;
  for (let i = 0; i < values.length; i += CHUNK) cancelled += (await cancelWhere(env, db, tenantId, inArray(column, values.slice(i, i + CHUNK)), detail, now)).length;
  return cancelled;
}

/** Communications by id; answers how many were still pending and are now cancelled. */
export const cancelByIds = (env: Events, db: Db, tenantId: string, ids: string[], detail: Record<string, unknown>, now = new Date()) =>
  cancelIn(env, db, tenantId, communication.id, ids, detail, now);

/** Every pending communication the given workflow runs created; answers how many were cancelled. */
export const cancelRunSends = (env: Events, db: Db, tenantId: string, runIds: string[], now = new Date()) =>
  cancelIn(env, db, tenantId, communication.workflowRunId, runIds, { reason: "workflow run cancelled" }, now);
