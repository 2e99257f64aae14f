/**
 * A queue batch of send messages, delivered as one unit of I/O: one D1 round trip claims them all
 * and loads what they need (batch-context.ts); each message is then decided on its own
 * (deliver.ts), with the provider calls running concurrently within the Workers connection limit;
 * one D1 batch records every outcome, timeline entry and stats change (stats and cost aggregated
 * per group, not per message); the follow-ups go to the send queue and the status changes to the
 * events queue in one sendBatch each. A message whose handling throws fails alone: it is reported
 * as an error for the consumer to retry, and its batch-mates are recorded as usual.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { runBatch } from "../db/client";
import { insertEvents, touchEnqueued, type ClaimState } from "../db/communications";
import { queueDelaySeconds } from "./accept";
import { claimAndLoad, type Check } from "./batch-context";
import { batchHealth } from "./batch-health";
import { costStatements } from "./cost";
import { deliverClaimed, type DeliveryDeps } from "./deliver";
import { escalate } from "./escalation";
import { mapPool } from "../lib/pool";
import { sendMessage, type SendMessage } from "./queue-message";
import { enqueueSends, laneOf } from "./send-lanes";
import { nothing, type Decision, type Recorded } from "./recorded";
import { announce, statsStatements } from "./transitions";

/** A Worker invocation keeps at most 6 connections open at once (provider calls, R2, DOs). */
export const PROVIDER_CONCURRENCY = 6;

export type Settled = { decision: Decision } | { error: unknown };

const ACK: Decision = { action: "ack" };

export async function deliverBatch(deps: DeliveryDeps, messages: SendMessage[]): Promise<Settled[]> {
  const now = deps.now();
  const sends = messages.filter((m) => !m.escalate && !m.check);
  const checks = messages.filter((m): m is Check => !m.escalate && !!m.check);
  const context = sends.length || checks.length ? await claimAndLoad(deps.db, sends, checks, now) : undefined;

  // A communication named twice in one batch is claimed once: only its first message sends it.
  const taken = new Set<string>();
  const health = batchHealth();
  const decide = async (msg: SendMessage): Promise<Recorded> => {
    if (msg.escalate) {
      await escalate({ db: deps.db, queue: deps.queue, tenantId: msg.tenantId, createdBy: "system:escalation", now, secret: deps.config.encryptionKey }, { ...msg, escalate: msg.escalate }, deps.limiter);
      return nothing(ACK);
    }
    if (msg.check) {
      // A receipt check: a no-op unless the provider that accepted the message went silent.
      const back = context!.checked[checks.indexOf(msg as Check)];
      return back ? deliverClaimed(deps, back, { ...context!.contextOf(back), health }, now, msg.check) : nothing(ACK);
    }
    const claimed = context!.claimed.get(msg.communicationId);
    if (!claimed || claimed.tenantId !== msg.tenantId || taken.has(claimed.id)) return notClaimable(deps, msg, context!.states.get(msg.communicationId), now);
    taken.add(claimed.id);
    return deliverClaimed(deps, claimed, { ...context!.contextOf(claimed), health }, now);
  };
  let finished = 0;
  const decided = await mapPool(messages, PROVIDER_CONCURRENCY, async (msg): Promise<{ recorded: Recorded; order: number } | { error: unknown }> => {
    try {
      const recorded = await decide(msg);
      return { recorded, order: finished++ };
    } catch (error) {
      return { error };
    }
  });
  // Written in the order the messages finished, so that breaker counters (a failure here, a
  // success there) end where the calls left them.
  const recorded = decided
    .flatMap((d, index) => ("recorded" in d ? [{ index, order: d.order, ...d.recorded }] : []))
    .sort((a, b) => a.order - b.order);
  const failed = await record(deps, recorded);

  const settled: Settled[] = decided.map((d) => ("error" in d ? { error: d.error } : { decision: d.recorded.decision }));
  for (const [index, error] of failed) settled[index] = { error };
  const written = recorded.filter((r) => !failed.has(r.index));
  try {
    await enqueueSends(deps.queue, written.flatMap((r) => r.followUps));
  } catch (error) {
    // Only the messages with follow-ups are retried: a hop is sent again; a lost receipt check
    // costs the silent failover of that one message, as it did before batches.
    for (const r of written) if (r.followUps.length) settled[r.index] = { error };
  }
  await announce(deps.events, written.flatMap((r) => r.transitions));
  return settled;
}

/** The statements recording these messages: their own, then the timeline and the aggregates. */
function statements(deps: DeliveryDeps, records: Recorded[]): BatchItem<"sqlite">[] {
  return [
    ...records.flatMap((r) => r.statements),
    ...insertEvents(deps.db, records.flatMap((r) => r.events)),
    ...statsStatements(deps.db, records.flatMap((r) => r.transitions)),
    ...costStatements(deps.db, records.flatMap((r) => r.costs)),
  ];
}

/**
 * Writes every record in one D1 batch (one transaction). Should that fail, each message is
 * written on its own, so that one bad write costs only its own message a retry, not the batch's
 * sends that already happened. Returns the messages whose writes failed, with the error.
 */
async function record(deps: DeliveryDeps, records: (Recorded & { index: number })[]): Promise<Map<number, unknown>> {
  const failed = new Map<number, unknown>();
  try {
    await runBatch(deps.db, statements(deps, records));
  } catch (error) {
    if (records.length === 1) failed.set(records[0]!.index, error);
    else {
      console.error(JSON.stringify({ msg: "recording a delivery batch failed; recording each message alone", count: records.length, error: String(error) }));
      await Promise.all(records.map((r) => runBatch(deps.db, statements(deps, [r])).catch((e: unknown) => void failed.set(r.index, e))));
    }
  }
  return failed;
}

/** The message could not be claimed: already handled, cancelled, not yet due, or a duplicate. */
function notClaimable(deps: DeliveryDeps, msg: SendMessage, state: ClaimState | undefined, now: Date): Recorded {
  if (!state || state.tenantId !== msg.tenantId) return nothing(ACK);
  if (state.status === "scheduled" && state.scheduledAt && state.scheduledAt > now) {
    // A hop of a far-future send: wait again rather than spending a queue retry.
    return {
      ...nothing(ACK),
      statements: [touchEnqueued(deps.db, state.tenantId, state.id, now)],
      followUps: [{ lane: laneOf(state), body: sendMessage(state.tenantId, state.id, msg.traceId), delaySeconds: queueDelaySeconds(state, now) }],
    };
  }
  if (state.status === "queued" && state.nextRetryAt && state.nextRetryAt > now) {
    return nothing({ action: "retry", delaySeconds: Math.max(1, Math.ceil((state.nextRetryAt.getTime() - now.getTime()) / 1000)) });
  }
  return nothing(ACK);
}
