/**
 * Delivering one claimed communication: walk the tenant's providers for its channel in priority
 * order and say what happened — sent, failed for good, or queued again with back-off. Every
 * provider call is one entry on the timeline. Nothing here writes to D1 or the queues: each path
 * returns a Recorded (the row's patch, timeline, stats moves, follow-up messages and what the
 * consumer should do with the queue message), and deliver-batch.ts writes a whole queue batch's
 * worth in one D1 batch. The provider calls, the send-rate tokens and the inbox are the only I/O.
 */
import { threadHeaders } from "../conversations/email-headers";
import { replyAddress } from "../conversations/reply-token";
import type { Config } from "../env";
import type { Db } from "../db/client";
import { eventRow, updateClaimed, type CommunicationEventRow, type CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import type { PreferenceRow } from "../db/preferences";
import { upsertSuppression, type SuppressionRow } from "../db/tracking";
import type { TenantSettings } from "../db/schema";
import { blockedBecause, isMarketing, policyOf, quietHold } from "../preferences/policy";
import { after, byHealth, receiptCheck, receiptWindowSeconds, silenceStatements, watchesReceipt } from "./silent-failover";
import type { BatchItem } from "drizzle-orm/batch";
import type { Inbox } from "../durable/inbox";
import type { LimiterNamespace } from "../durable/client";
import { deliverToInbox } from "./inbox-delivery";
import { deliverPush, type PushContext } from "./push-delivery";
import type { CommunicationStatus } from "../domain";
import type { EventMessage } from "./event-message";
import { transitionOf, type Transition } from "./transitions";
import type { SendOutcome } from "../channels/types";
import { attempt, toOutbound, unsubscribeHeaders, withTracking } from "./outbound";
import { MAX_QUEUE_DELAY_SECONDS, type SendMessage } from "./queue-message";
import { laneOf, type SendQueues } from "./send-lanes";
import { retryDelaySeconds } from "./retry-policy";
import { countsAgainstProvider, failureStatement, successStatements } from "./circuit-breaker";
import type { ProviderThrottle } from "../durable/provider-throttle";
import { attachmentLoader } from "./attachment-delivery";
import { costPatch, sendCost } from "./cost";
import { retrying, type Recorded } from "./recorded";
import { routeOrder, strategyFor } from "./weighted-routing";
import { duplicateRisk } from "./possible-duplicate";
import type { BatchHealth } from "./batch-health";

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

/** What a claimed communication's delivery needs, loaded for the whole batch at once. */
export type DeliveryContext = {
  /** The tenant's enabled providers for the communication's channel, in priority order. */
  providers: ProviderConfigRow[];
  suppression?: SuppressionRow;
  settings: TenantSettings | null | undefined;
  preference?: PreferenceRow;
  /** For push: the recipient's devices, and those that accepted this communication before. */
  push: PushContext;
  /** The breaker as the batch's calls so far have moved it. */
  health: BatchHealth;
};

type Failure = Extract<SendOutcome, { ok: false }>;

/**
 * Walks the providers for a claimed communication. With `silence`, the one that accepted it
 * never reported delivery: start after it, and if nobody else takes it, keep waiting on it.
 */
export async function deliverClaimed(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  context: DeliveryContext,
  now: Date,
  silence?: NonNullable<SendMessage["check"]>,
): Promise<Recorded> {
  const { settings, preference } = context;
  const policy = policyOf(settings);
  const healthy = byHealth(context.health.view(routeOrder(context.providers, strategyFor(settings, claimed.channel), claimed.id), now), now);
  const silent = silence ? healthy.find((c) => c.id === silence.providerConfigId) : undefined;
  const configs = silence ? after(healthy, silence.providerConfigId) : healthy;
  const tracking = settings?.tracking ?? "provider";
  const events: CommunicationEventRow[] = [];
  const event = (e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">) =>
    events.push(eventRow({ tenantId: claimed.tenantId, communicationId: claimed.id, createdAt: deps.now(), ...e }));

  const transition = (status: CommunicationStatus, at: Date, extra: Partial<Transition> = {}) => transitionOf(claimed, status, at, extra);

  // Preferences may have changed since the send was accepted (a scheduled send, an opt-out).
  const block = context.suppression;
  const unwanted = claimed.recipientId ? blockedBecause(preference, policy, claimed.channel, claimed.type) : undefined;
  if (block || unwanted) {
    const reason = block
      ? `suppressed: ${block.reason}${block.detail ? ` (${block.detail})` : ""} — lift it with DELETE /api/suppressions`
      : `suppressed: ${unwanted}`;
    event({ kind: "status", status: "suppressed", error: reason });
    return finish(deps, claimed, events, { status: "suppressed", errorMessage: reason, updatedAt: now }, [transition("suppressed", now)]);
  }
  // Quiet hours were applied at accept; a retry, a throttled wait or a window set since can still
  // land inside them. A failover after silence is not held: the message was already sent once.
  const quiet = silence ? undefined : quietHold(preference, policy, claimed.priority, now);
  if (quiet) {
    event({ kind: "note", error: quiet.reason, detail: { quietHours: true } });
    const held = finish(deps, claimed, events, { status: "scheduled", scheduledAt: quiet.until, updatedAt: now }, []);
    return retrying(held, Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.ceil((quiet.until.getTime() - now.getTime()) / 1000))));
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
    return deliverPush(deps, claimed, healthy, context.push, {
      event,
      transition,
      finish: (patch, moves, extra) => finish(deps, claimed, events, patch, moves, extra),
      defer: (config, waitMs) => deferForRate(deps, claimed, events, event, config, waitMs),
      attempt: (config, message) => attempt(deps.db, deps.config, config, message),
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
  // A conversation reply (src/conversations/send.ts) threads under the customer's message.
  const threading = claimed.channel === "email" ? threadHeaders(claimed.metadata) : undefined;
  if (threading) outbound.headers = { ...outbound.headers, ...threading };
  // With a reply domain, every email names its signed reply-to address: the reply threads to this communication.
  const replyDomain = claimed.channel === "email" ? settings?.conversations?.replyDomain : undefined;
  if (replyDomain) outbound.replyTo = await replyAddress(deps.config.encryptionKey, claimed.tenantId, claimed.id, replyDomain);
  const failures: Failure[] = [];
  const attachmentsFor = attachmentLoader(deps.attachments, claimed);
  for (const [index, config] of configs.entries()) {
    // The files as this provider takes them; one it cannot take is failed over like an error.
    const files = await attachmentsFor(config);
    // Our own send rate for this provider: wait for it rather than fail over.
    const waitMs = files.ok ? await deps.throttle.take(config, claimed.id) : 0;
    if (waitMs > 0) return deferForRate(deps, claimed, events, event, config, waitMs);
    const started = Date.now();
    const outcome: SendOutcome = files.ok ? await attempt(deps.db, deps.config, config, { ...toOutbound(deps.config, outbound, config), attachments: files.attachments }) : files;
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
      context.health.failed(config);
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
      context.health.accepted(config);
      const at = deps.now();
      event({ kind: "status", status: "sent", provider: config.provider, providerConfigId: config.id });
      if (outcome.delivered) event({ kind: "status", status: "delivered", provider: config.provider, providerConfigId: config.id });
      // A failover after silence was already counted as sent the first time.
      const moves = silence ? [] : [transition("sent", at, { sendLatencyMs: at.getTime() - (claimed.scheduledAt ?? claimed.createdAt).getTime() })];
      if (outcome.delivered) moves.push(transition("delivered", at));
      const windowSeconds = receiptWindowSeconds(claimed, settings);
      const check = !outcome.delivered && (await watchesReceipt(deps.db, deps.config.encryptionKey, config, configs.length - index - 1, windowSeconds)) ? receiptCheck(claimed, config, windowSeconds) : undefined;
      const cost = sendCost(config, claimed);
      const recorded = finish(deps, claimed, events, {
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
      }, moves, health);
      if (cost) recorded.costs.push({ c: claimed, cost });
      if (check) recorded.followUps.push({ ...check, lane: laneOf(claimed) });
      return recorded;
    }
    failures.push(outcome);
    if (outcome.failure === "permanent") {
      if (outcome.suppress) health.push(suppressContact(deps, claimed, config, outcome.suppress, event));
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
    const queued = finish(deps, claimed, events, {
      status: "queued",
      retryCount: retry,
      nextRetryAt: new Date(at.getTime() + delaySeconds * 1000),
      enqueuedAt: at,
      errorMessage: last.reason,
      updatedAt: at,
    }, [], health);
    return retrying(queued, delaySeconds);
  }
  const why = retryable ? `gave up after ${claimed.retryCount + 1} attempts: ${last.reason}` : last.reason;
  return fail(deps, claimed, events, event, why, deps.now(), transition, undefined, health);
}

type EventSink = (e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">) => void;

/** The provider says the contact is gone for good (a bot blocked by the user): later sends are suppressed with why. */
function suppressContact(deps: DeliveryDeps, claimed: CommunicationRow, config: ProviderConfigRow, suppress: NonNullable<Failure["suppress"]>, event: EventSink) {
  event({ kind: "note", provider: config.provider, providerConfigId: config.id, error: `${claimed.recipientContact} suppressed: ${suppress.reason}${suppress.detail ? ` (${suppress.detail})` : ""}`, detail: { suppressed: suppress.reason } });
  return upsertSuppression(deps.db, { tenantId: claimed.tenantId, channel: claimed.channel, contact: claimed.recipientContact, reason: suppress.reason, detail: suppress.detail ?? null, source: config.provider, communicationId: claimed.id, createdAt: deps.now() });
}

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
): Recorded {
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
function deferForRate(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  events: CommunicationEventRow[],
  event: EventSink,
  config: ProviderConfigRow,
  waitMs: number,
): Recorded {
  const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.ceil(waitMs / 1000)));
  const at = deps.now();
  event({ kind: "note", provider: config.provider, providerConfigId: config.id, detail: { throttled: true, delaySeconds } });
  return retrying(finish(deps, claimed, events, { status: "queued", nextRetryAt: new Date(at.getTime() + delaySeconds * 1000), enqueuedAt: at, updatedAt: at }, []), delaySeconds);
}

/** The attempt's outcome as this communication's share of the batch's writes. */
function finish(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  events: CommunicationEventRow[],
  patch: Partial<CommunicationRow>,
  transitions: Transition[],
  extra: BatchItem<"sqlite">[] = [],
): Recorded {
  return {
    decision: { action: "ack", outcome: { status: patch.status ?? claimed.status, provider: patch.provider ?? claimed.provider } },
    statements: [updateClaimed(deps.db, claimed, patch), ...extra],
    events,
    transitions,
    costs: [],
    followUps: [],
  };
}
