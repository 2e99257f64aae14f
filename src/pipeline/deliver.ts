/**
 * Delivering one communication: claim it, walk the tenant's providers for its channel in priority
 * order, and record what happened — sent, failed for good, or queued again with back-off. Every
 * provider call is one entry on the timeline. Returns what the queue consumer should do with the
 * message; it never acks or retries by itself.
 */
import type { Config } from "../env";
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import {
  claimCommunication,
  eventRow,
  getCommunication,
  insertEvent,
  touchEnqueued,
  updateClaimed,
  type CommunicationEventRow,
  type CommunicationRow,
} from "../db/communications";
import { providersForChannel, type ProviderConfigRow } from "../db/providers";
import { findSuppression } from "../db/tracking";
import { tenantSettings } from "../db/tenants";
import { getPreference } from "../db/preferences";
import { blockedBecause, isMarketing, policyOf, quietHold } from "../preferences/policy";
import { after, byHealth, claimForSilence, receiptCheck, receiptWindowSeconds, silenceStatements, watchesReceipt } from "./silent-failover";
import type { BatchItem } from "drizzle-orm/batch";
import type { Inbox } from "../durable/inbox";
import type { LimiterNamespace } from "../durable/client";
import { deliverToInbox } from "./inbox-delivery";
import { deliverPush } from "./push-delivery";
import { escalate } from "./escalation";
import type { CommunicationStatus } from "../domain";
import type { EventMessage } from "./event-message";
import { announce, statsStatements, transitionOf, type Transition } from "./transitions";
import type { SendOutcome } from "../channels/types";
import { queueDelaySeconds } from "./accept";
import { attempt, toOutbound, unsubscribeHeaders, withTracking } from "./outbound";
import { MAX_QUEUE_DELAY_SECONDS, sendMessage, type SendMessage } from "./queue-message";
import { enqueueSends, laneOf, type SendQueues } from "./send-lanes";
import { retryDelaySeconds } from "./retry-policy";
import { countsAgainstProvider, failureStatement, successStatements } from "./circuit-breaker";
import type { ProviderThrottle } from "../durable/provider-throttle";
import { attachmentLoader } from "./attachment-delivery";
import { costPatch, costStatements, sendCost } from "./cost";
import { routeOrder, strategyFor } from "./weighted-routing";
import { duplicateRisk } from "./possible-duplicate";

export type DeliveryDeps = {
  db: Db;
  queue: SendQueues;
  events: Queue<EventMessage>;
  config: Config;
  now: () => Date;
  /** The tenant's send rate per provider config (src/durable/provider-throttle.ts). */
  throttle: ProviderThrottle;
  /** The tenant limiters, for quotas on what delivery itself sends (escalations). */
  limiter: LimiterNamespace;
  /** Recipients' in-app inboxes, for the `in_app` channel. */
  inbox: DurableObjectNamespace<Inbox>;
  /** Stored attachment content (src/pipeline/attachments.ts). */
  attachments: R2Bucket;
};
/** Where the communication stands once its outcome is recorded: for the consumer's log line. */
export type Outcome = { status: CommunicationStatus; provider: string | null };
export type Decision = { action: "ack"; outcome?: Outcome } | { action: "retry"; delaySeconds: number; outcome?: Outcome };

const ACK: Decision = { action: "ack" };
type Failure = Extract<SendOutcome, { ok: false }>;

export async function deliver(deps: DeliveryDeps, msg: SendMessage): Promise<Decision> {
  const now = deps.now();
  if (msg.escalate) {
    await escalate({ db: deps.db, queue: deps.queue, tenantId: msg.tenantId, createdBy: "system:escalation", now, secret: deps.config.encryptionKey }, { ...msg, escalate: msg.escalate }, deps.limiter);
    return ACK;
  }
  if (msg.check) {
    // A receipt check: a no-op unless the provider that accepted the message went silent.
    const taken = await claimForSilence(deps.db, { ...msg, check: msg.check }, now);
    return taken ? deliverClaimed(deps, taken, now, msg.check) : ACK;
  }
  const claimed = await claimCommunication(deps.db, msg.tenantId, msg.communicationId, now);
  if (!claimed) return notClaimable(deps, msg, now);
  return deliverClaimed(deps, claimed, now);
}

/**
 * Walks the providers for a claimed communication. With `silence`, the one that accepted it
 * never reported delivery: start after it, and if nobody else takes it, keep waiting on it.
 */
async function deliverClaimed(deps: DeliveryDeps, claimed: CommunicationRow, now: Date, silence?: NonNullable<SendMessage["check"]>): Promise<Decision> {
  // One round trip for all three: who can send, whether we may send to this contact at all, and
  // the tenant's settings.
  const [found, suppressed, tenantRows, prefRows] = await deps.db.batch([
    providersForChannel(deps.db, claimed.tenantId, claimed.channel),
    findSuppression(deps.db, claimed.tenantId, claimed.channel, claimed.recipientContact),
    tenantSettings(deps.db, claimed.tenantId),
    getPreference(deps.db, claimed.tenantId, { entityType: claimed.recipientType, entityId: claimed.recipientId ?? "" }),
  ]);
  const settings = tenantRows[0]?.settings;
  const policy = policyOf(settings);
  const healthy = byHealth(routeOrder(found, strategyFor(settings, claimed.channel), claimed.id), now);
  const silent = silence ? healthy.find((c) => c.id === silence.providerConfigId) : undefined;
  const configs = silence ? after(healthy, silence.providerConfigId) : healthy;
  const tracking = settings?.tracking ?? "provider";
  const events: CommunicationEventRow[] = [];
  const event = (e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">) =>
    events.push(eventRow({ tenantId: claimed.tenantId, communicationId: claimed.id, createdAt: deps.now(), ...e }));

  const transition = (status: CommunicationStatus, at: Date, extra: Partial<Transition> = {}) => transitionOf(claimed, status, at, extra);

  // Preferences may have changed since the send was accepted (a scheduled send, an opt-out).
  const block = suppressed[0];
  const unwanted = claimed.recipientId ? blockedBecause(prefRows[0], policy, claimed.channel, claimed.type) : undefined;
  if (block || unwanted) {
    const reason = block
      ? `suppressed: ${block.reason}${block.detail ? ` (${block.detail})` : ""} — lift it with DELETE /api/suppressions`
      : `suppressed: ${unwanted}`;
    event({ kind: "status", status: "suppressed", error: reason });
    return finish(deps, claimed, events, { status: "suppressed", errorMessage: reason, updatedAt: now }, [transition("suppressed", now)]);
  }
  // Quiet hours were applied at accept; a retry, a throttled wait or a window set since can still
  // land inside them. A failover after silence is not held: the message was already sent once.
  const quiet = silence ? undefined : quietHold(prefRows[0], policy, claimed.priority, now);
  if (quiet) {
    event({ kind: "note", error: quiet.reason, detail: { quietHours: true } });
    await finish(deps, claimed, events, { status: "scheduled", scheduledAt: quiet.until, updatedAt: now }, []);
    return { action: "retry", delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.ceil((quiet.until.getTime() - now.getTime()) / 1000))) };
  }
  if (claimed.channel === "in_app") {
    // Herald's own inbox: no provider to walk; stored in the recipient's inbox is delivered.
    const started = Date.now();
    await deliverToInbox(deps.inbox, claimed, settings?.retentionDays);
    const at = deps.now();
    event({ kind: "attempt", provider: "inbox", latencyMs: Date.now() - started, detail: { stored: true } });
    event({ kind: "status", status: "sent", provider: "inbox" });
    event({ kind: "status", status: "delivered", provider: "inbox" });
    const latency = at.getTime() - (claimed.scheduledAt ?? claimed.createdAt).getTime();
    return finish(
      deps,
      claimed,
      events,
      { status: "delivered", sentAt: at, deliveredAt: at, provider: "inbox", providerMessageId: `inbox-${claimed.id}`, errorMessage: null, updatedAt: at },
      [transition("sent", at, { sendLatencyMs: latency }), transition("delivered", at)],
    );
  }
  if (claimed.channel === "push") {
    // Push fans out to the recipient's devices; never silent failover (push gives no receipts).
    const outbound = { ...claimed, tracking };
    return deliverPush(deps, claimed, healthy, {
      event,
      transition,
      finish: (patch, moves, extra) => finish(deps, claimed, events, patch, moves, extra),
      defer: (config, waitMs) => deferForRate(deps, claimed, events, event, config, waitMs),
      attempt: (config, message) => attempt(deps.config, config, message),
      outbound: (config) => toOutbound(deps.config, outbound, config),
    });
  }
  const health: BatchItem<"sqlite">[] = [];
  if (silence) {
    const waited = `no delivery receipt from ${silent?.provider ?? "the provider"} within ${silence.windowSeconds} s`;
    if (silent) health.push(...silenceStatements(deps.db, claimed, silent, now));
    if (configs.length === 0) {
      event({ kind: "note", error: `${waited}, and no other provider to fail over to` });
      return finish(deps, claimed, events, { status: "sent", updatedAt: now }, [], health);
    }
    event({ kind: "failover", provider: configs[0]!.provider, providerConfigId: configs[0]!.id, error: waited, detail: { silent: true, waitedSeconds: silence.windowSeconds } });
  }
  if (configs.length === 0) {
    return fail(deps, claimed, events, event, `no provider is configured for channel "${claimed.channel}"`, now, transition);
  }

  const outbound = await withTracking(deps.config, claimed, tracking);
  if (claimed.channel === "email" && isMarketing(policy, claimed.type)) {
    outbound.headers = await unsubscribeHeaders(deps.config, claimed);
  }
  const failures: Failure[] = [];
  const attachmentsFor = attachmentLoader(deps.attachments, claimed);
  for (const [index, config] of configs.entries()) {
    // The files as this provider takes them; one it cannot take is failed over like an error.
    const files = await attachmentsFor(config);
    // Our own send rate for this provider: wait for it rather than fail over.
    const waitMs = files.ok ? await deps.throttle.take(config, claimed.id) : 0;
    if (waitMs > 0) return deferForRate(deps, claimed, events, event, config, waitMs);
    const started = Date.now();
    const outcome: SendOutcome = files.ok ? await attempt(deps.config, config, { ...toOutbound(deps.config, outbound, config), attachments: files.attachments }) : files;
    const latencyMs = Date.now() - started;
    event({
      kind: "attempt",
      provider: config.provider,
      providerConfigId: config.id,
      httpStatus: outcome.httpStatus ?? null,
      error: outcome.ok ? null : outcome.reason,
      latencyMs,
      detail: outcome.ok ? { providerMessageId: outcome.providerMessageId } : { failure: outcome.failure },
    });
    if (!outcome.ok && outcome.httpStatus === 429) await deps.throttle.slowDown(config, outcome.retryAfterSeconds);
    if (!outcome.ok && countsAgainstProvider(outcome.failure)) {
      const breaker = failureStatement(deps.db, config, deps.now());
      health.push(breaker.statement);
      if (breaker.opens) {
        event({
          kind: "note",
          provider: config.provider,
          providerConfigId: config.id,
          error: `circuit breaker opened: ${breaker.failures} failed calls in a row; ${config.provider} goes last for ${breaker.cooldownSeconds} s`,
          detail: { breaker: "open", cooldownSeconds: breaker.cooldownSeconds },
        });
      }
    }
    if (outcome.ok) {
      health.push(...successStatements(deps.db, config));
      const at = deps.now();
      event({ kind: "status", status: "sent", provider: config.provider, providerConfigId: config.id });
      if (outcome.delivered) event({ kind: "status", status: "delivered", provider: config.provider, providerConfigId: config.id });
      // A failover after silence was already counted as sent the first time.
      const moves = silence ? [] : [transition("sent", at, { sendLatencyMs: at.getTime() - (claimed.scheduledAt ?? claimed.createdAt).getTime() })];
      if (outcome.delivered) moves.push(transition("delivered", at));
      const windowSeconds = receiptWindowSeconds(claimed, settings);
      const check = !outcome.delivered && (await watchesReceipt(deps.config.encryptionKey, config, configs.length - index - 1, windowSeconds)) ? receiptCheck(claimed, config, windowSeconds) : undefined;
      const cost = sendCost(config, claimed);
      const decision = await finish(deps, claimed, events, {
        status: outcome.delivered ? "delivered" : "sent",
        sentAt: at,
        deliveredAt: outcome.delivered ? at : null,
        provider: config.provider,
        providerConfigId: config.id,
        providerMessageId: outcome.providerMessageId,
        providerResponse: { httpStatus: outcome.httpStatus ?? null, attempt: claimed.retryCount + 1 },
        errorMessage: null,
        updatedAt: at,
        ...costPatch(claimed, cost),
      }, moves, [...health, ...costStatements(deps.db, claimed, cost)]);
      if (check) await enqueueSends(deps.queue, [{ ...check, lane: laneOf(claimed) }]);
      return decision;
    }
    failures.push(outcome);
    if (outcome.failure === "permanent") {
      return fail(deps, claimed, events, event, outcome.reason, deps.now(), transition, config, health);
    }
    const next = configs[index + 1];
    if (next) {
      event({ kind: "failover", provider: next.provider, providerConfigId: next.id, error: `failing over from ${config.provider}: ${outcome.reason}`, detail: duplicateRisk(outcome, config) ?? null });
    }
  }

  const last = failures.at(-1)!;
  if (silence) {
    // Nobody else took it; the silent provider did accept it, so keep waiting on that one.
    event({ kind: "note", error: `no other provider accepted it (${last.reason}); still waiting on ${silent?.provider ?? "the first provider"}` });
    return finish(deps, claimed, events, { status: "sent", updatedAt: deps.now() }, [], health);
  }
  const retryable = failures.some((f) => f.failure === "retryable");
  if (retryable && claimed.retryCount < claimed.maxRetries) {
    const retry = claimed.retryCount + 1;
    const delaySeconds = retryDelaySeconds(retry, Math.max(...failures.map((f) => f.retryAfterSeconds ?? 0)));
    const at = deps.now();
    event({ kind: "retry", status: "queued", error: last.reason, detail: { retry, of: claimed.maxRetries, delaySeconds } });
    await finish(deps, claimed, events, {
      status: "queued",
      retryCount: retry,
      nextRetryAt: new Date(at.getTime() + delaySeconds * 1000),
      enqueuedAt: at,
      errorMessage: last.reason,
      updatedAt: at,
    }, [], health);
    return { action: "retry", delaySeconds };
  }
  const why = retryable ? `gave up after ${claimed.retryCount + 1} attempts: ${last.reason}` : last.reason;
  return fail(deps, claimed, events, event, why, deps.now(), transition, undefined, health);
}

type EventSink = (e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">) => void;

function fail(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  events: CommunicationEventRow[],
  event: EventSink,
  reason: string,
  at: Date,
  transition: (status: CommunicationStatus, at: Date) => Transition,
  config?: ProviderConfigRow,
  health: BatchItem<"sqlite">[] = [],
): Promise<Decision> {
  event({ kind: "status", status: "failed", error: reason, provider: config?.provider ?? null, providerConfigId: config?.id ?? null });
  const patch: Partial<CommunicationRow> = { status: "failed", failedAt: at, errorMessage: reason, updatedAt: at };
  if (config) Object.assign(patch, { provider: config.provider, providerConfigId: config.id });
  return finish(deps, claimed, events, patch, [transition("failed", at)], health);
}

/**
 * The tenant's send rate for this provider is used up: release the claim (back to `queued` until
 * the slot the limiter booked for this communication) and have the queue bring the message back
 * then. Not a retry (nothing failed, so no retry is counted) and not a reason to fail over.
 */
async function deferForRate(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  events: CommunicationEventRow[],
  event: EventSink,
  config: ProviderConfigRow,
  waitMs: number,
): Promise<Decision> {
  const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.ceil(waitMs / 1000)));
  const at = deps.now();
  event({ kind: "note", provider: config.provider, providerConfigId: config.id, detail: { throttled: true, delaySeconds } });
  await finish(deps, claimed, events, { status: "queued", nextRetryAt: new Date(at.getTime() + delaySeconds * 1000), enqueuedAt: at, updatedAt: at }, []);
  return { action: "retry", delaySeconds };
}

/** Records the attempt's outcome, its timeline and its stats in one batch, then announces it. */
async function finish(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  events: CommunicationEventRow[],
  patch: Partial<CommunicationRow>,
  transitions: Transition[],
  extra: BatchItem<"sqlite">[] = [],
): Promise<Decision> {
  await runBatch(deps.db, [
    updateClaimed(deps.db, claimed, patch),
    ...events.map((e) => insertEvent(deps.db, e)),
    ...statsStatements(deps.db, transitions),
    ...extra,
  ]);
  await announce(deps.events, transitions);
  return { action: "ack", outcome: { status: patch.status ?? claimed.status, provider: patch.provider ?? claimed.provider } };
}

/** The message could not be claimed: already handled, cancelled, not yet due, or a duplicate. */
async function notClaimable(deps: DeliveryDeps, msg: SendMessage, now: Date): Promise<Decision> {
  const row = await getCommunication(deps.db, msg.tenantId, msg.communicationId);
  if (!row) return ACK;
  if (row.status === "scheduled" && row.scheduledAt && row.scheduledAt > now) {
    // A hop of a far-future send: wait again rather than spending a queue retry.
    await enqueueSends(deps.queue, [{ lane: laneOf(row), body: sendMessage(row.tenantId, row.id, msg.traceId), delaySeconds: queueDelaySeconds(row, now) }]);
    await touchEnqueued(deps.db, row.tenantId, row.id, now);
    return ACK;
  }
  if (row.status === "queued" && row.nextRetryAt && row.nextRetryAt > now) {
    return { action: "retry", delaySeconds: Math.max(1, Math.ceil((row.nextRetryAt.getTime() - now.getTime()) / 1000)) };
  }
  return ACK;
}
