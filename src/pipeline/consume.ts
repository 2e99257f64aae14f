/**
 * Queue batches → deliveries. Each message is acked only once its outcome is recorded in D1, and
 * retried (with the delay deliver() chose) when it may still succeed. A message whose handling
 * throws (D1 unavailable, a bug) is retried by the queue; one that keeps throwing ends in the
 * dead-letter queue, whose handler records it as failed so nothing vanishes.
 */
import type { Env } from "../env";
import { eachMessage } from "../lib/queue-batch";
import { readConfig } from "../env";
import { database } from "../db/client";
import { eventRow, failUnfinished, insertEvent } from "../db/communications";
import { runBatch } from "../db/client";
import { deliver, type DeliveryDeps } from "./deliver";
import { providerThrottle } from "../durable/provider-throttle";
import { SendMessage } from "./queue-message";
import { sendQueues } from "./send-lanes";
import { EventMessage } from "./event-message";
import { attemptDelivery, fanOut, type WebhookDeps } from "./tenant-webhooks";
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
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = SendMessage.safeParse(message.body);
      if (!parsed.success) {
        // Not ours or from an incompatible version: retrying cannot help.
        console.error(JSON.stringify({ msg: "dropping malformed queue message", id: message.id }));
        message.ack();
        return;
      }
      const { tenantId, communicationId, traceId } = parsed.data;
      const kind = parsed.data.check ? "receipt check" : parsed.data.escalate ? "escalation" : "send";
      try {
        const decision = await deliver(d, parsed.data);
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
      } catch (error) {
        console.error(JSON.stringify({ msg: "delivery threw", kind, communicationId, tenantId, traceId, error: String(error) }));
        message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
      }
    }),
  );
}

export async function consumeDeadLetters(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  const db = database(env.DB);
  for (const message of batch.messages) {
    const parsed = SendMessage.safeParse(message.body);
    if (!parsed.success) {
      message.ack();
      continue;
    }
    const { tenantId, communicationId } = parsed.data;
    if (parsed.data.check || parsed.data.escalate) {
      // A receipt check or an escalation that kept failing: the communication itself is fine.
      console.error(JSON.stringify({ msg: "dropping a dead-lettered follow-up", communicationId, tenantId, traceId: parsed.data.traceId, kind: parsed.data.check ? "receipt check" : "escalation" }));
      message.ack();
      continue;
    }
    const now = new Date();
    const reason = "delivery could not be processed after repeated errors (dead-lettered)";
    const failed = await failUnfinished(db, tenantId, communicationId, reason, now);
    if (failed) {
      const moved = [transitionOf(failed, "failed", now)];
      await runBatch(db, [
        insertEvent(db, eventRow({ tenantId, communicationId, kind: "status", status: "failed", error: reason, detail: { deadLettered: true }, createdAt: now })),
        ...statsStatements(db, moved),
      ]);
      await announce(env.EVENT_QUEUE, moved);
    }
    console.error(JSON.stringify({ msg: "dead-lettered", communicationId, tenantId, traceId: parsed.data.traceId, status: failed ? "failed" : "unchanged" }));
    message.ack();
  }
}

export async function consumeEvents(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  const d: WebhookDeps = { db: database(env.DB), events: env.EVENT_QUEUE, config: depsOrExplain(env).config, now: () => new Date() };
  for (const message of batch.messages) {
    const parsed = EventMessage.safeParse(message.body);
    if (!parsed.success) {
      message.ack();
      continue;
    }
    try {
      const outcome = parsed.data.kind === "status" ? await fanOut(d, parsed.data) : await attemptDelivery(d, parsed.data);
      if (outcome.action === "ack") message.ack();
      else message.retry({ delaySeconds: outcome.delaySeconds });
    } catch (error) {
      console.error(JSON.stringify({ msg: "event handling threw", kind: parsed.data.kind, error: String(error) }));
      message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    }
  }
}

/** Business events: each is claimed in D1 before its rules run, so a redelivered message is harmless. */
export const consumeAutomation = (env: Env, batch: MessageBatch<unknown>): Promise<void> => {
  const d = automationDeps(env);
  return eachMessage(batch, AutomationMessage, "automation", (m) => processEvent(d, m.tenantId, m.eventId, new Date()), CRASH_RETRY_SECONDS);
};
