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
import type { TenantSettings } from "../db/schema";
import { looksLikeHtml } from "../channels/email/content";
import { addTracking } from "./tracking-links";
import type { CommunicationStatus } from "../domain";
import type { EventMessage } from "./event-message";
import { announce, statsStatements, transitionOf, type Transition } from "./transitions";
import type { OutboundMessage, SendOutcome } from "../channels/types";
import { queueDelaySeconds } from "./accept";
import { buildAdapter, webhookUrl } from "./provider-configs";
import { sendMessage, type SendMessage } from "./queue-message";
import { retryDelaySeconds } from "./retry-policy";

export type DeliveryDeps = { db: Db; queue: Queue<SendMessage>; events: Queue<EventMessage>; config: Config; now: () => Date };
export type Decision = { action: "ack" } | { action: "retry"; delaySeconds: number };

const ACK: Decision = { action: "ack" };
type Failure = Extract<SendOutcome, { ok: false }>;

export async function deliver(deps: DeliveryDeps, msg: SendMessage): Promise<Decision> {
  const now = deps.now();
  const claimed = await claimCommunication(deps.db, msg.tenantId, msg.communicationId, now);
  if (!claimed) return notClaimable(deps, msg, now);

  // One round trip for all three: who can send, whether we may send to this contact at all, and
  // the tenant's settings.
  const [configs, suppressed, tenantRows] = await deps.db.batch([
    providersForChannel(deps.db, claimed.tenantId, claimed.channel),
    findSuppression(deps.db, claimed.tenantId, claimed.channel, claimed.recipientContact),
    tenantSettings(deps.db, claimed.tenantId),
  ]);
  const tracking = tenantRows[0]?.settings?.tracking ?? "provider";
  const events: CommunicationEventRow[] = [];
  const event = (e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">) =>
    events.push(eventRow({ tenantId: claimed.tenantId, communicationId: claimed.id, createdAt: deps.now(), ...e }));

  const transition = (status: CommunicationStatus, at: Date, extra: Partial<Transition> = {}) => transitionOf(claimed, status, at, extra);

  const block = suppressed[0];
  if (block) {
    const reason = `suppressed: ${block.reason}${block.detail ? ` (${block.detail})` : ""} — lift it with DELETE /api/suppressions`;
    event({ kind: "status", status: "suppressed", error: reason });
    return finish(deps, claimed, events, { status: "suppressed", errorMessage: reason, updatedAt: now }, [transition("suppressed", now)]);
  }
  if (configs.length === 0) {
    return fail(deps, claimed, events, event, `no provider is configured for channel "${claimed.channel}"`, now, transition);
  }

  const outbound = await withTracking(deps.config, claimed, tracking);
  const failures: Failure[] = [];
  for (const [index, config] of configs.entries()) {
    const started = Date.now();
    const outcome = await attempt(deps.config, config, toOutbound(deps.config, outbound, config));
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
    if (outcome.ok) {
      const at = deps.now();
      event({ kind: "status", status: "sent", provider: config.provider, providerConfigId: config.id });
      if (outcome.delivered) event({ kind: "status", status: "delivered", provider: config.provider, providerConfigId: config.id });
      const moves = [transition("sent", at, { sendLatencyMs: at.getTime() - (claimed.scheduledAt ?? claimed.createdAt).getTime() })];
      if (outcome.delivered) moves.push(transition("delivered", at));
      return finish(deps, claimed, events, {
        status: outcome.delivered ? "delivered" : "sent",
        sentAt: at,
        deliveredAt: outcome.delivered ? at : null,
        provider: config.provider,
        providerConfigId: config.id,
        providerMessageId: outcome.providerMessageId,
        providerResponse: { httpStatus: outcome.httpStatus ?? null, attempt: claimed.retryCount + 1 },
        errorMessage: null,
        updatedAt: at,
      }, moves);
    }
    failures.push(outcome);
    if (outcome.failure === "permanent") {
      return fail(deps, claimed, events, event, outcome.reason, deps.now(), transition, config);
    }
    const next = configs[index + 1];
    if (next) {
      event({ kind: "failover", provider: next.provider, providerConfigId: next.id, error: `failing over from ${config.provider}: ${outcome.reason}` });
    }
  }

  const last = failures.at(-1)!;
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
    }, []);
    return { action: "retry", delaySeconds };
  }
  const why = retryable ? `gave up after ${claimed.retryCount + 1} attempts: ${last.reason}` : last.reason;
  return fail(deps, claimed, events, event, why, deps.now(), transition);
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
): Promise<Decision> {
  event({ kind: "status", status: "failed", error: reason, provider: config?.provider ?? null, providerConfigId: config?.id ?? null });
  const patch: Partial<CommunicationRow> = { status: "failed", failedAt: at, errorMessage: reason, updatedAt: at };
  if (config) Object.assign(patch, { provider: config.provider, providerConfigId: config.id });
  return finish(deps, claimed, events, patch, [transition("failed", at)]);
}

/** Records the attempt's outcome, its timeline and its stats in one batch, then announces it. */
async function finish(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  events: CommunicationEventRow[],
  patch: Partial<CommunicationRow>,
  transitions: Transition[],
): Promise<Decision> {
  await runBatch(deps.db, [
    updateClaimed(deps.db, claimed, patch),
    ...events.map((e) => insertEvent(deps.db, e)),
    ...statsStatements(deps.db, transitions),
  ]);
  await announce(deps.events, transitions);
  return ACK;
}

/** One provider call; exceptions (timeouts, DNS, resets, bad stored config) become failures. */
async function attempt(config: Config, row: ProviderConfigRow, message: OutboundMessage): Promise<SendOutcome> {
  let adapter;
  try {
    adapter = await buildAdapter(config.encryptionKey, row);
  } catch (error) {
    return { ok: false, failure: "provider", reason: `provider config ${row.id} is unusable: ${(error as Error).message}` };
  }
  try {
    return await adapter.send(message);
  } catch (error) {
    const e = error as Error;
    const reason = e.name === "TimeoutError" ? `${row.provider} did not answer in time` : `${row.provider} request failed: ${e.message}`;
    return { ok: false, failure: "retryable", reason };
  }
}

type Tracked = CommunicationRow & { tracking: TenantSettings["tracking"] };

/** With Herald's own tracking, HTML email goes out with signed links and an open pixel. */
async function withTracking(config: Config, c: CommunicationRow, tracking: TenantSettings["tracking"]): Promise<Tracked> {
  if (c.channel !== "email" || tracking !== "herald" || !looksLikeHtml(c.content)) return { ...c, tracking };
  const content = await addTracking(c.content, { secret: config.encryptionKey, publicUrl: config.publicUrl, tenantId: c.tenantId, communicationId: c.id });
  return { ...c, content, tracking };
}

function toOutbound(config: Config, c: Tracked, row: ProviderConfigRow): OutboundMessage {
  return {
    communicationId: c.id,
    tenantId: c.tenantId,
    channel: c.channel,
    to: c.recipientContact,
    recipientName: c.recipientName,
    subject: c.subject,
    content: c.content,
    text: c.textContent,
    ...(c.channel === "email" ? { tracking: c.tracking } : {}),
    attachments: c.attachments ?? [],
    statusCallbackUrl: `${webhookUrl(config.publicUrl, row)}?c=${encodeURIComponent(c.id)}`,
  };
}

/** The message could not be claimed: already handled, cancelled, not yet due, or a duplicate. */
async function notClaimable(deps: DeliveryDeps, msg: SendMessage, now: Date): Promise<Decision> {
  const row = await getCommunication(deps.db, msg.tenantId, msg.communicationId);
  if (!row) return ACK;
  if (row.status === "scheduled" && row.scheduledAt && row.scheduledAt > now) {
    // A hop of a far-future send: wait again rather than spending a queue retry.
    await deps.queue.send(sendMessage(row.tenantId, row.id), { delaySeconds: queueDelaySeconds(row, now) });
    await touchEnqueued(deps.db, row.tenantId, row.id, now);
    return ACK;
  }
  if (row.status === "queued" && row.nextRetryAt && row.nextRetryAt > now) {
    return { action: "retry", delaySeconds: Math.max(1, Math.ceil((row.nextRetryAt.getTime() - now.getTime()) / 1000)) };
  }
  return ACK;
}
