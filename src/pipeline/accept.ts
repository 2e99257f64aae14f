/**
 * Accepting sends (validate → render → store → enqueue): validated, rendered requests become communication rows, written to D1 in one batch
 * (one round trip, one transaction) and then announced on the queue. D1 is the source of truth:
 * if the queue send fails after the commit, the row is marked for the next sweep instead of being
 * lost, and the caller still gets its 201.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { eventRow, insertCommunication, insertEvent, touchEnqueued, type CommunicationRow } from "../db/communications";
import type { Channel } from "../domain";
import { AppError } from "../lib/errors";
import { uuidv7 } from "../lib/ids";
import { MAX_QUEUE_DELAY_SECONDS, sendMessage, type SendMessage } from "./queue-message";
import { enqueueSends, laneOf, type SendQueues } from "./send-lanes";
import { DEFAULT_MAX_RETRIES } from "./retry-policy";
import type { ConcreteSend } from "./send-request";
import type { PlannedSend } from "./plan";
import type { ResolvedContent } from "./template-content";
import { statsStatements, transitionOf } from "./transitions";

export type AcceptContext = {
  db: Db;
  /** The send lanes; each row goes on the one laneOf chooses. */
  queue: SendQueues;
  tenantId: string;
  createdBy: string | null;
  now: Date;
  /** The master secret (config.encryptionKey) the tenant's data key derives from: sealed contacts open with it. */
  secret: string;
  /** The accepting request's trace id, carried on the queue message (see request-log.ts). */
  traceId?: string;
};

/**
 * Builds the row a request becomes, with its rendered content; `scheduled` when it is due later
 * than now.
 */
export function buildCommunication(ctx: AcceptContext, req: ConcreteSend, content: ResolvedContent, extra: Partial<CommunicationRow> = {}): CommunicationRow {
  const scheduledAt = req.scheduledAt ? new Date(req.scheduledAt) : null;
  const later = scheduledAt !== null && scheduledAt.getTime() > ctx.now.getTime();
  return {
    id: uuidv7(ctx.now.getTime()),
    tenantId: ctx.tenantId,
    createdBy: ctx.createdBy,
    recipientType: req.recipientType,
    recipientId: req.recipientId ?? null,
    recipientName: req.recipientName ?? null,
    recipientContact: req.recipientContact,
    channel: req.channel,
    type: req.type,
    ...content,
    entityType: req.entityType ?? null,
    entityId: req.entityId ?? null,
    templateVariables: req.templateVariables ?? null,
    attachments: req.attachments ?? null,
    metadata: req.metadata ?? null,
    status: later ? "scheduled" : "queued",
    priority: req.priority,
    scheduledAt: later ? scheduledAt : null,
    sentAt: null,
    deliveredAt: null,
    openedAt: null,
    clickedAt: null,
    bouncedAt: null,
    failedAt: null,
    cancelledAt: null,
    errorMessage: null,
    provider: null,
    providerConfigId: null,
    providerMessageId: null,
    providerResponse: null,
    costMicros: null,
    costCurrency: null,
    openCount: 0,
    clickCount: 0,
    receiptWindowSeconds: req.receiptWindowSeconds ?? null,
    retryCount: 0,
    maxRetries: DEFAULT_MAX_RETRIES,
    nextRetryAt: null,
    enqueuedAt: ctx.now,
    claimedAt: null,
    originalCommunicationId: null,
    campaignId: null,
    campaignVariant: null,
    workflowRunId: null,
    workflowStepId: null,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    ...extra,
  };
}

/**
 * The row a planned send becomes, and the timeline notes it starts with: why it was suppressed,
 * or why it is held.
 */
export function buildPlanned(ctx: AcceptContext, p: PlannedSend, content: ResolvedContent, extra: Partial<CommunicationRow> = {}) {
  const row = buildCommunication(ctx, p.req, content, { ...(p.blocked ? { status: "suppressed", errorMessage: p.blocked } : {}), ...extra });
  const notes: BatchItem<"sqlite">[] = [];
  if (p.blocked) notes.push(insertEvent(ctx.db, eventRow({ tenantId: row.tenantId, communicationId: row.id, kind: "status", status: "suppressed", error: p.blocked, createdAt: ctx.now })));
  if (p.held) notes.push(insertEvent(ctx.db, eventRow({ tenantId: row.tenantId, communicationId: row.id, kind: "note", status: "scheduled", detail: { reason: p.held.reason }, createdAt: ctx.now })));
  return { row, notes };
}

export const noProviderError = (channel: Channel, field = "channel") =>
  new AppError("no_provider", `no provider is configured for channel "${channel}"`, [
    { field, message: `configure one with POST /api/providers before sending on ${channel}` },
  ]);

export const queueDelaySeconds = (row: Pick<CommunicationRow, "scheduledAt">, now: Date) =>
  row.scheduledAt ? Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((row.scheduledAt.getTime() - now.getTime()) / 1000))) : 0;

/**
 * Stores the rows (plus any statements the caller needs in the same transaction, such as the
 * idempotency record) and enqueues them.
 */
export async function storeAndEnqueue(
  ctx: AcceptContext,
  rows: CommunicationRow[],
  extra: BatchItem<"sqlite">[] = [],
  followUps: { body: SendMessage; delaySeconds?: number }[] = [],
) {
  const accepted = statsStatements(ctx.db, rows.map((row) => transitionOf(row, row.status, ctx.now)), () => "accepted");
  const suppressed = statsStatements(ctx.db, rows.filter((r) => r.status === "suppressed").map((row) => transitionOf(row, "suppressed", ctx.now)));
  const alongside = [...extra, ...accepted, ...suppressed];
  const inserts = rows.map((row) => insertCommunication(ctx.db, row));
  // Stay well below D1's per-batch limits for large batches; each chunk is its own transaction,
  // and the idempotency record goes with the last so it exists only once everything is stored.
  const CHUNK = 250;
  for (let i = 0; i < inserts.length; i += CHUNK) {
    const last = i + CHUNK >= inserts.length;
    await runBatch(ctx.db, [...inserts.slice(i, i + CHUNK), ...(last ? alongside : [])]);
  }
  if (rows.length === 0 && alongside.length) await runBatch(ctx.db, alongside);
  const deliverable = rows.filter((r) => r.status !== "suppressed");
  try {
    // A follow-up (an escalation check) travels in the lane of the communication it watches.
    const lanes = new Map(rows.map((row) => [row.id, laneOf(row)]));
    await enqueueSends(ctx.queue, [
      ...deliverable.map((row) => ({ lane: laneOf(row), body: sendMessage(row.tenantId, row.id, ctx.traceId), delaySeconds: queueDelaySeconds(row, ctx.now) })),
      ...followUps.map((f) => ({ ...f, lane: lanes.get(f.body.communicationId) ?? "standard" as const })),
    ]);
  } catch (error) {
    console.error(JSON.stringify({ msg: "enqueue failed; the sweep will pick these up", count: deliverable.length, error: String(error) }));
    await runBatch(ctx.db, deliverable.map((row) => touchEnqueued(ctx.db, row.tenantId, row.id, new Date(0))));
  }
}
