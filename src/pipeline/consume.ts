/**
 * Queue batches → deliveries. A send batch is delivered as one unit (deliver-batch.ts); each
 * message is then acked or retried on its own: acked only once its outcome is recorded in D1,
 * retried (with the delay its delivery chose) when it may still succeed. A message whose handling
 * throws (a bug, a failed write) is retried without its batch-mates; if the batch's opening read
 * fails (D1 unavailable), every message is. One that keeps throwing ends in the dead-letter
 * queue, whose handler records it as failed so nothing vanishes.
 */
import type { Env } from "../env";
import { eachMessage } from "../lib/queue-batch";
import { readConfig } from "../env";
import { database } from "../db/client";
import { eventRow, failUnfinished, insertEvents, type CommunicationRow } from "../db/communications";
import { runBatch } from "../db/client";
import type { DeliveryDeps } from "./deliver";
import { deliverBatch } from "./deliver-batch";
import { providerThrottle } from "../durable/provider-throttle";
import { SendMessage } from "./queue-message";
import { sendQueues } from "./send-lanes";
import { EventMessage, type WebhookEvent } from "./event-message";
import { handleMediaJobs, type MediaJob } from "../conversations/media-job";
import type { WebhookDeps } from "./tenant-webhooks";
import { handleEvents } from "./event-batch";
import { announce, statsStatements, transitionOf } from "./transitions";
import { AutomationMessage } from "../automation/message";
import { automationDeps } from "../automation/deps";
import { processEvent } from "../automation/process";

export const deliveryDeps = (env: Env): DeliveryDeps => ({
  db: database(env.DB),
  queue: sendQueues(env),
  events: env.EVENT_QUEUE,
  config: readConfig(env),
  now: () => new Date(),
  throttle: providerThrottle(env.LIMITER),
  inbox: env.INBOX,
  limiter: env.LIMITER,
  attachments: env.ATTACHMENTS,
});

/** Seconds before a message whose handling threw is tried again. */
const CRASH_RETRY_SECONDS = 30;

/** A misconfigured deploy fails every message; say so once, loudly, and let the queue retry. */
function depsOrExplain(env: Env): DeliveryDeps {
  try {
    return deliveryDeps(env);
  } catch (error) {
    console.error(JSON.stringify({ msg: "delivery worker is misconfigured", error: String(error) }));
    throw error;
  }
}

export async function consumeSends(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  const d = depsOrExplain(env);
  const valid: { message: Message<unknown>; body: SendMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = SendMessage.safeParse(message.body);
    if (parsed.success) valid.push({ message, body: parsed.data });
    else {
      // Not ours or from an incompatible version: retrying cannot help.
      console.error(JSON.stringify({ msg: "dropping malformed queue message", id: message.id }));
      message.ack();
    }
  }
  if (valid.length === 0) return;
  let settled;
  try {
    settled = await deliverBatch(d, valid.map((v) => v.body));
  } catch (error) {
    console.error(JSON.stringify({ msg: "delivery batch threw", count: valid.length, error: String(error) }));
    for (const { message } of valid) message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    return;
  }
  for (const [i, { message, body }] of valid.entries()) {
    const { tenantId, communicationId, traceId } = body;
    const kind = body.check ? "receipt check" : body.escalate ? "escalation" : "send";
    const result = settled[i]!;
    if ("error" in result) {
      console.error(JSON.stringify({ msg: "delivery threw", kind, communicationId, tenantId, traceId, error: String(result.error) }));
      message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
      continue;
    }
    const decision = result.decision;
    if (decision.action === "ack") message.ack();
    else message.retry({ delaySeconds: decision.delaySeconds });
    // Ids, status and provider only: never the contact or the content.
    console.log(
      JSON.stringify({
        msg: "delivery",
        kind,
        communicationId,
        tenantId,
        traceId,
        action: decision.action,
        status: decision.outcome?.status ?? (decision.action === "retry" ? "queued" : undefined),
        provider: decision.outcome?.provider ?? undefined,
        ...(decision.action === "retry" ? { delaySeconds: decision.delaySeconds } : {}),
        attempts: message.attempts,
      }),
    );
  }
}

/**
 * Dead letters, a batch at a time: one D1 batch fails every communication still unfinished (each
 * update conditional, so one delivered meanwhile stays as it is), one more records their timeline
 * and stats, and their status changes go out in one sendBatch.
 */
export async function consumeDeadLetters(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  const db = database(env.DB);
  const now = new Date();
  const reason = "delivery could not be processed after repeated errors (dead-lettered)";
  const ends: { message: Message<unknown>; body: SendMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = SendMessage.safeParse(message.body);
    if (!parsed.success) {
      message.ack();
      continue;
    }
    if (parsed.data.check || parsed.data.escalate) {
      // A receipt check or an escalation that kept failing: the communication itself is fine.
      console.error(JSON.stringify({ msg: "dropping a dead-lettered follow-up", communicationId: parsed.data.communicationId, tenantId: parsed.data.tenantId, traceId: parsed.data.traceId, kind: parsed.data.check ? "receipt check" : "escalation" }));
      message.ack();
      continue;
    }
    ends.push({ message, body: parsed.data });
  }
  if (ends.length === 0) return;
  const updated = (await runBatch(db, ends.map(({ body }) => failUnfinished(db, body.tenantId, body.communicationId, reason, now)))) as CommunicationRow[][];
  const failed = updated.flatMap((rows) => rows);
  const moved = failed.map((c) => transitionOf(c, "failed", now));
  await runBatch(db, [
    ...insertEvents(db, failed.map((c) => eventRow({ tenantId: c.tenantId, communicationId: c.id, kind: "status", status: "failed", error: reason, detail: { deadLettered: true }, createdAt: now }))),
    ...statsStatements(db, moved),
  ]);
  await announce(env.EVENT_QUEUE, moved);
  for (const [i, { message, body }] of ends.entries()) {
    console.error(JSON.stringify({ msg: "dead-lettered", communicationId: body.communicationId, tenantId: body.tenantId, traceId: body.traceId, status: updated[i]!.length ? "failed" : "unchanged" }));
    message.ack();
  }
}

/**
 * The events queue, a batch at a time: webhook events through event-batch.ts, media jobs through
 * src/conversations/media-job.ts, side by side, so downloads from a slow media host never hold up
 * the outcomes of webhook attempts (nor the other way round). Each message is acked or retried on
 * its own: a failing endpoint's message with its back-off, a media job with a download left to
 * try again after its delay, one whose handling threw after CRASH_RETRY_SECONDS, and the rest of
 * its batch as their own outcomes say.
 */
export async function consumeEvents(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  const d: WebhookDeps = { db: database(env.DB), events: env.EVENT_QUEUE, config: depsOrExplain(env).config, now: () => new Date() };
  const events: { message: Message<unknown>; body: WebhookEvent }[] = [];
  const media: { message: Message<unknown>; body: MediaJob }[] = [];
  for (const message of batch.messages) {
    const parsed = EventMessage.safeParse(message.body);
    if (!parsed.success) message.ack();
    else if (parsed.data.kind === "media") media.push({ message, body: parsed.data });
    else events.push({ message, body: parsed.data });
  }
  await Promise.all([
    settle(events, () => handleEvents(d, events.map((v) => v.body)), "event"),
    settle(media, () => handleMediaJobs(env, media.map((v) => ({ job: v.body, attempts: v.message.attempts }))), "media job"),
  ]);
}

/** Acks or retries each message as its settlement says; a handler that threw retries them all. */
async function settle<B extends { kind: string; tenantId: string }>(
  valid: { message: Message<unknown>; body: B }[],
  handle: () => Promise<({ outcome: { action: "ack" } | { action: "retry"; delaySeconds: number } } | { error: unknown })[]>,
  what: string,
): Promise<void> {
  if (valid.length === 0) return;
  let settled;
  try {
    settled = await handle();
  } catch (error) {
    console.error(JSON.stringify({ msg: `${what} batch threw`, count: valid.length, error: String(error) }));
    for (const { message } of valid) message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    return;
  }
  for (const [i, { message, body }] of valid.entries()) {
    const result = settled[i]!;
    if ("error" in result) {
      console.error(JSON.stringify({ msg: `${what} handling threw`, kind: body.kind, tenantId: body.tenantId, error: String(result.error) }));
      message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    } else if (result.outcome.action === "ack") message.ack();
    else message.retry({ delaySeconds: result.outcome.delaySeconds });
  }
}

/** Business events: each is claimed in D1 before its rules run, so a redelivered message is harmless. */
export const consumeAutomation = (env: Env, batch: MessageBatch<unknown>): Promise<void> => {
  const d = automationDeps(env);
  return eachMessage(batch, AutomationMessage, "automation", (m) => processEvent(d, m.tenantId, m.eventId, new Date()), CRASH_RETRY_SECONDS);
};
