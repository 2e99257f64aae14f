/**
 * A campaign's state changes, each a conditional update so that of two racing callers (two API
 * requests, a request and the cron, two cron runs) one wins:
 *
 *   draft | scheduled ──send──▶ sending ──(test share done)──▶ testing ──(winner)──▶ sending (main) ──▶ completed
 *                                 │  ▲ resume
 *                          pause  ▼  │
 *                                paused            any but completed ──cancel──▶ cancelled
 *
 * Pause stops the fan-out chain: no new communications are created; those already created (at
 * most the last chunk, since chunks are paced by sendRate) are delivered. Resume continues from
 * the cursor. Cancel also cancels the campaign's communications still queued or scheduled.
 */
import { runBatch } from "../db/client";
import { cancelWaiting, campaignCounts, moveCampaign, type CampaignRow } from "../db/campaigns";
import { eventRow, insertEvent } from "../db/communications";
import type { CampaignStatus } from "../db/schema";
import { announce, statsStatements, transitionOf } from "../pipeline/transitions";
import { defaultMetric, pickWinner } from "./ab";
import type { CampaignDeps } from "./deps";
import { chunkMessage, cursorOf } from "./message";

const isAbTest = (c: CampaignRow) => c.testPercent > 0 && c.variants.length > 1;

/** Starts the fan-out (from draft, or a due schedule); undefined if it was not in `from`. */
export async function startCampaign(d: CampaignDeps, c: CampaignRow, from: CampaignStatus[], now: Date) {
  const started = await moveCampaign(d.db, c.tenantId, c.id, from, {
    status: "sending",
    phase: isAbTest(c) && !c.winner ? "test" : "main",
    cursorType: null,
    cursorId: null,
    processed: 0,
    startedAt: now,
    nextChunkAt: now,
    updatedAt: now,
  });
  if (started) await d.campaigns.send(chunkMessage(started, null));
  return started;
}

export async function pauseCampaign(d: CampaignDeps, c: CampaignRow, now: Date) {
  return moveCampaign(d.db, c.tenantId, c.id, ["sending"], { status: "paused", nextChunkAt: null, updatedAt: now });
}

export async function resumeCampaign(d: CampaignDeps, c: CampaignRow, now: Date) {
  const resumed = await moveCampaign(d.db, c.tenantId, c.id, ["paused"], { status: "sending", nextChunkAt: now, lastError: null, updatedAt: now });
  if (resumed) await d.campaigns.send(chunkMessage(resumed, cursorOf(resumed)));
  return resumed;
}

/** Restarts a chain whose next message never came (lost, or its consumer died): idempotent by the chunk records. */
export async function restartChain(d: CampaignDeps, c: CampaignRow, now: Date) {
  const touched = await moveCampaign(d.db, c.tenantId, c.id, ["sending"], { nextChunkAt: now, updatedAt: now });
  if (touched && touched.phase === c.phase) await d.campaigns.send(chunkMessage(touched, cursorOf(touched)));
  return touched;
}

export async function cancelCampaign(d: CampaignDeps, c: CampaignRow, now: Date) {
  const cancelled = await moveCampaign(d.db, c.tenantId, c.id, ["draft", "scheduled", "sending", "paused", "testing"], {
    status: "cancelled",
    cancelledAt: now,
    nextChunkAt: null,
    updatedAt: now,
  });
  if (!cancelled) return undefined;
  return { campaign: cancelled, cancelledMessages: await cancelWaitingMessages(d, cancelled, now) };
}

const CANCEL_BATCH = 500;

/** Cancels the campaign's queued and scheduled communications, with their timeline entries and stats. */
export async function cancelWaitingMessages(d: CampaignDeps, c: CampaignRow, now: Date) {
  let total = 0;
  for (;;) {
    const rows = await cancelWaiting(d.db, c.tenantId, c.id, now, CANCEL_BATCH);
    if (rows.length === 0) return total;
    total += rows.length;
    const moved = rows.map((r) => transitionOf(r, "cancelled", now));
    await runBatch(d.db, [
      ...rows.map((r) => insertEvent(d.db, eventRow({ tenantId: c.tenantId, communicationId: r.id, kind: "status", status: "cancelled", detail: { campaignId: c.id }, createdAt: now }))),
      ...statsStatements(d.db, moved),
    ]);
    await announce(d.events, moved);
    if (rows.length < CANCEL_BATCH) return total;
  }
}

/** The fan-out walked every member: the test share waits for its result, the main phase is done. */
export async function finishPhase(d: CampaignDeps, c: CampaignRow, now: Date) {
  if (c.phase === "main") return moveCampaign(d.db, c.tenantId, c.id, ["sending"], { status: "completed", completedAt: now, nextChunkAt: null, updatedAt: now });
  if (c.winner) return beginMain(d, c, ["sending"], c.winner, c.winnerPickedBy ?? "manual", now);
  return moveCampaign(d.db, c.tenantId, c.id, ["sending"], {
    status: "testing",
    testEndsAt: new Date(now.getTime() + (c.testDurationMinutes ?? 60) * 60_000),
    nextChunkAt: null,
    updatedAt: now,
  });
}

/** Sends the winner to everyone outside the test share. */
async function beginMain(d: CampaignDeps, c: CampaignRow, from: CampaignStatus[], winner: string, by: string, now: Date) {
  const moved = await moveCampaign(d.db, c.tenantId, c.id, from, {
    status: "sending",
    phase: "main",
    winner,
    winnerPickedBy: by,
    cursorType: null,
    cursorId: null,
    processed: 0,
    nextChunkAt: now,
    updatedAt: now,
  });
  if (moved) await d.campaigns.send(chunkMessage(moved, null));
  return moved;
}

/**
 * A person picks the winner. While the test share is still being sent it is only recorded (the
 * rest follows as soon as the test fan-out ends); once the test is waiting, the rest starts now.
 */
export async function chooseWinner(d: CampaignDeps, c: CampaignRow, winner: string, now: Date) {
  if (c.status === "testing") return beginMain(d, c, ["testing"], winner, "manual", now);
  return moveCampaign(d.db, c.tenantId, c.id, ["sending", "paused"], { winner, winnerPickedBy: "manual", updatedAt: now });
}

/** The test is over: the best rate of the campaign's metric wins. */
export async function decideWinner(d: CampaignDeps, c: CampaignRow, now: Date) {
  const metric = c.winnerMetric ?? defaultMetric(c.channel);
  const { winner } = pickWinner(c.variants.map((v) => v.name), await campaignCounts(d.db, c.tenantId, c.id), metric);
  return beginMain(d, c, ["testing"], winner ?? c.variants[0]!.name, `auto:${metric}`, now);
}
