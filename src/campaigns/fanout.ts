/**
 * One fan-out message: create the communications for the next members after the message's
 * cursor, in chunks of at most CHUNK members, then put the next message on the campaigns queue.
 * Each chunk goes through the normal send path (preferences and routing, suppressions, quiet
 * hours, templates, quotas: src/pipeline/prepare.ts and accept.ts) and is stored in one D1
 * transaction together with its chunk record and the cursor's move. A replayed or concurrent
 * message for the same chunk fails on the chunk record (and on the unique campaign/recipient
 * index) and creates nothing; a message whose cursor is not the campaign's is stale and stops.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { isUniqueViolation, runBatch } from "../db/client";
import type { MemberKey, MemberRow } from "../db/audiences";
import { advanceCursor, campaignMembersAfter, campaignOf, campaignRecipientsBetween, insertChunk, moveCampaign, type CampaignRow } from "../db/campaigns";
import type { PreferenceRow } from "../db/preferences";
import type { CommunicationRow } from "../db/communications";
import type { CampaignVariant } from "../db/schema";
import { withinQuota } from "../durable/quota";
import { AppError } from "../lib/errors";
import { storeAndEnqueue, type AcceptContext } from "../pipeline/accept";
import { preferenceReads, recipientsFrom } from "../pipeline/plan";
import { prepare } from "../pipeline/prepare";
import { SendRequest } from "../pipeline/send-request";
import { contentResolver } from "../pipeline/template-content";
import { fieldErrors } from "../api/validate";
import { bucketOf, variantIndexOf } from "./ab";
import type { CampaignDeps } from "./deps";
import { cancelWaitingMessages, finishPhase } from "./lifecycle";
import { chunkMessage, cursorKey, cursorOf, sameCursor, type CampaignMessage } from "./message";
import { memberRequest } from "./requests";

/**
 * Members per chunk: one D1 transaction (storeAndEnqueue writes up to 250 rows in one), and a
 * few hundred milliseconds of work, so a crash loses little.
 */
export const CHUNK = 200;
/** Unthrottled, one message does this many chunks before handing on (fewer queue hops). */
export const CHUNKS_PER_MESSAGE = 5;

export type ChunkOutcome = "stale" | "continued" | "finished" | "paused";

const keyOf = (m: { recipientType: string; recipientId: string | null }) => `${m.recipientType}\u0000${m.recipientId}`;

export async function runFanOut(d: CampaignDeps, msg: CampaignMessage, now: Date): Promise<ChunkOutcome> {
  const resolve = contentResolver(d.db, msg.tenantId);
  let after: MemberKey | null = msg.after;
  let delaySeconds = 0;
  for (let round = 0; round < CHUNKS_PER_MESSAGE; round++) {
    // The campaign and its next members in one round trip. CHUNK members are read whatever the
    // send rate (which is only known with the row): a throttled chunk uses the first `size`.
    const [[c], next] = (await runBatch(d.db, [campaignOf(d.db, msg.tenantId, msg.campaignId), campaignMembersAfter(d.db, msg.tenantId, msg.campaignId, after, CHUNK)])) as [CampaignRow[], MemberRow[]];
    if (c?.status === "cancelled") await cancelWaitingMessages(d, c, now);
    if (!c || c.status !== "sending" || c.phase !== msg.phase || !sameCursor(cursorOf(c), after)) return "stale";
    const size = c.sendRate ? Math.min(CHUNK, c.sendRate) : CHUNK;
    const members = next.slice(0, size);
    if (members.length === 0) {
      await finishPhase(d, c, now);
      return "finished";
    }
    const done = await sendChunk(d, c, after, members, resolve, now);
    if (done.kind === "duplicate") return "stale";
    if (done.kind === "quota") {
      await moveCampaign(d.db, c.tenantId, c.id, ["sending"], { status: "paused", lastError: done.message, nextChunkAt: null, updatedAt: now });
      return "paused";
    }
    after = members.at(-1)!;
    // Throttled: one chunk per message, the next one delayed by what this one sent.
    if (c.sendRate) {
      delaySeconds = done.delaySeconds;
      break;
    }
  }
  await d.campaigns.send(chunkMessage({ tenantId: msg.tenantId, id: msg.campaignId, phase: msg.phase }, after), { delaySeconds });
  return "continued";
}

type ChunkResult = { kind: "done"; delaySeconds: number } | { kind: "duplicate" } | { kind: "quota"; message: string };

/** Who in this chunk gets which variant in the current phase (nobody twice). */
function picks(c: CampaignRow, members: MemberRow[], done: Set<string>) {
  const testing = c.testPercent > 0 && c.variants.length > 1;
  const main = c.variants.find((v) => v.name === c.winner) ?? c.variants[0]!;
  const out: { m: MemberRow; v: CampaignVariant }[] = [];
  for (const m of members) {
    if (done.has(keyOf(m))) continue;
    if (!testing) out.push({ m, v: main });
    else {
      const inTest = bucketOf(c.id, m) < c.testPercent;
      if (c.phase === "test" && inTest) out.push({ m, v: c.variants[variantIndexOf(c.id, m, c.variants.length)]! });
      if (c.phase === "main" && !inTest) out.push({ m, v: main });
    }
  }
  return out;
}

async function sendChunk(
  d: CampaignDeps,
  c: CampaignRow,
  from: MemberKey | null,
  members: MemberRow[],
  resolve: ReturnType<typeof contentResolver>,
  now: Date,
): Promise<ChunkResult> {
  const last = members.at(-1)!;
  // Who already has one (a replayed chunk) and every member's preferences, in one round trip.
  const [existing, ...found] = (await runBatch(d.db, [campaignRecipientsBetween(d.db, c.tenantId, c.id, from, last), ...preferenceReads(d.db, c.tenantId, members)])) as [MemberKey[], ...PreferenceRow[][]];
  const chosen = picks(c, members, new Set(existing.map(keyOf)));
  const recipients = await recipientsFrom(d.db, d.secret, c.tenantId, found.flat());
  const ctx: AcceptContext = { db: d.db, queue: d.bulk, tenantId: c.tenantId, createdBy: c.createdBy, now, secret: d.secret };
  const rows: CommunicationRow[] = [];
  const notes: BatchItem<"sqlite">[] = [];
  let skipped = 0;
  let lastError: string | undefined;
  const skip = (m: MemberRow, why: string) => {
    skipped++;
    lastError = `${m.recipientType}/${m.recipientId}: ${why}`;
  };
  for (const { m, v } of chosen) {
    const hasPreferences = recipients.preferences.has(keyOf({ recipientType: m.recipientType, recipientId: m.recipientId }));
    const parsed = SendRequest.safeParse(memberRequest(c, v, m, hasPreferences, recipients.ready));
    if (!parsed.success) {
      const e = fieldErrors(parsed.error)[0]!;
      skip(m, `${e.field}: ${e.message}`);
      continue;
    }
    try {
      const prepared = await prepare(ctx, recipients, resolve, parsed.data);
      for (const row of prepared.rows) {
        row.campaignId = c.id;
        row.campaignVariant = v.name;
      }
      rows.push(...prepared.rows);
      notes.push(...prepared.notes);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      skip(m, error.message);
    }
  }
  const sending = rows.filter((r) => r.status !== "suppressed").length;
  const delaySeconds = c.sendRate ? Math.ceil((60 * sending) / c.sendRate) : 0;
  const bookkeeping = [
    insertChunk(d.db, { campaignId: c.id, phase: c.phase, after: cursorKey(from), tenantId: c.tenantId, communications: rows.length, createdAt: now }),
    advanceCursor(d.db, c, from, last, { processed: members.length, skipped }, { nextChunkAt: new Date(now.getTime() + delaySeconds * 1000), updatedAt: now, ...(lastError ? { lastError } : {}) }),
  ];
  try {
    await withinQuota(d.limiter, c.tenantId, rows, () => storeAndEnqueue(ctx, rows, [...notes, ...bookkeeping]));
    return { kind: "done", delaySeconds };
  } catch (error) {
    if (isUniqueViolation(error)) return { kind: "duplicate" };
    if (error instanceof AppError && error.code === "quota_exceeded") return { kind: "quota", message: error.message };
    throw error;
  }
}
