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
  getCommunication,
  insertEvent,
  touchEnqueued,
  updateClaimed,
  type CommunicationEventRow,
  type CommunicationRow,
} from "../db/communications";
import { providersForChannel, type ProviderConfigRow } from "../db/providers";
import type { OutboundMessage, SendOutcome } from "../channels/types";
import { uuidv7 } from "../lib/ids";
import { queueDelaySeconds } from "./accept";
import { buildAdapter, webhookUrl } from "./provider-configs";
import { sendMessage, type SendMessage } from "./queue-message";
import { retryDelaySeconds } from "./retry-policy";

export type DeliveryDeps = { db: Db; queue: Queue<SendMessage>; config: Config; now: () => Date };
export type Decision = { action: "ack" } | { action: "retry"; delaySeconds: number };

const ACK: Decision = { action: "ack" };
type Failure = Extract<SendOutcome, { ok: false }>;

export async function deliver(deps: DeliveryDeps, msg: SendMessage): Promise<Decision> {
  const now = deps.now();
  const claimed = await claimCommunication(deps.db, msg.tenantId, msg.communicationId, now);
  if (!claimed) return notClaimable(deps, msg, now);

  const configs = await providersForChannel(deps.db, claimed.tenantId, claimed.channel);
  const events: CommunicationEventRow[] = [];
  const event = (e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">) =>
    events.push({
      id: uuidv7(),
      tenantId: claimed.tenantId,
      communicationId: claimed.id,
      status: null,
      provider: null,
      providerConfigId: null,
      httpStatus: null,
      error: null,
      latencyMs: null,
      detail: null,
      createdAt: deps.now(),
      ...e,
    });

  if (configs.length === 0) {
    return finish(deps, claimed, events, event, failedPatch(`no provider is configured for channel "${claimed.channel}"`, now));
  }

  const failures: Failure[] = [];
  for (const [index, config] of configs.entries()) {
    const started = Date.now();
    const outcome = await attempt(deps.config, config, toOutbound(deps.config, claimed, config));
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
      return finish(deps, claimed, events, event, {
        status: outcome.delivered ? "delivered" : "sent",
        sentAt: at,
        deliveredAt: outcome.delivered ? at : null,
        provider: config.provider,
        providerConfigId: config.id,
        providerMessageId: outcome.providerMessageId,
        providerResponse: { httpStatus: outcome.httpStatus ?? null, attempt: claimed.retryCount + 1 },
        errorMessage: null,
        updatedAt: at,
      });
    }
    failures.push(outcome);
    if (outcome.failure === "permanent") {
      return finish(deps, claimed, events, event, failedPatch(outcome.reason, deps.now()), config);
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
    await finish(deps, claimed, events, event, {
      status: "queued",
      retryCount: retry,
      nextRetryAt: new Date(at.getTime() + delaySeconds * 1000),
      enqueuedAt: at,
      errorMessage: last.reason,
      updatedAt: at,
    });
    return { action: "retry", delaySeconds };
  }
  const why = retryable ? `gave up after ${claimed.retryCount + 1} attempts: ${last.reason}` : last.reason;
  return finish(deps, claimed, events, event, failedPatch(why, deps.now()));
}

const failedPatch = (reason: string, at: Date): Partial<CommunicationRow> => ({
  status: "failed",
  failedAt: at,
  errorMessage: reason,
  updatedAt: at,
});

async function finish(
  deps: DeliveryDeps,
  claimed: CommunicationRow,
  events: CommunicationEventRow[],
  event: (e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">) => void,
  patch: Partial<CommunicationRow>,
  config?: ProviderConfigRow,
): Promise<Decision> {
  if (patch.status === "failed") {
    event({ kind: "status", status: "failed", error: patch.errorMessage ?? null, provider: config?.provider ?? null, providerConfigId: config?.id ?? null });
    if (config) Object.assign(patch, { provider: config.provider, providerConfigId: config.id });
  }
  await runBatch(deps.db, [updateClaimed(deps.db, claimed, patch), ...events.map((e) => insertEvent(deps.db, e))]);
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

function toOutbound(config: Config, c: CommunicationRow, row: ProviderConfigRow): OutboundMessage {
  return {
    communicationId: c.id,
    tenantId: c.tenantId,
    channel: c.channel,
    to: c.recipientContact,
    recipientName: c.recipientName,
    subject: c.subject,
    content: c.content,
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
