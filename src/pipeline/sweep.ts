/**
 * The cron sweep: D1, not the queue, is the source of truth. Anything that should be on the queue
 * but may not be (a producer that died between commit and enqueue, a local queue lost on restart,
 * a consumer that died mid-send) is enqueued again. The claim in deliverBatch() makes extra messages
 * harmless. Each pass is bounded; a backlog drains over several passes.
 */
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { findSweepCandidates, markReenqueued } from "../db/communications";
import { sendMessage } from "./queue-message";
import { enqueueSends, laneOf, type SendQueues } from "./send-lanes";

export const SWEEP_LIMIT = 500;
/** How late a scheduled send may be before the sweep assumes its queue message was lost. */
const SCHEDULED_GRACE_MS = 60_000;

export async function sweep(db: Db, queues: SendQueues, staleMs: number, now = new Date()) {
  const candidates = await findSweepCandidates(
    db,
    now,
    new Date(now.getTime() - staleMs),
    new Date(now.getTime() - SCHEDULED_GRACE_MS),
    SWEEP_LIMIT,
  );
  if (candidates.length === 0) return { reenqueued: 0 };
  await runBatch(db, candidates.map((c) => markReenqueued(db, c, now)));
  await enqueueSends(queues, candidates.map((c) => ({ lane: laneOf(c), body: sendMessage(c.tenantId, c.id) })));
  return { reenqueued: candidates.length };
}
