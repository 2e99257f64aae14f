/**
 * Tenant webhooks, off the sending path: a status change on the events queue fans out to the
 * tenant's subscribed endpoints (one logged delivery each), and every delivery is attempted by
 * its own queue message, retried with back-off, so one slow or failing endpoint delays nothing
 * else. Receivers dedupe on `webhook-id`, which is stable per communication and status.
 *
 * This module holds the per-item decisions (pure) and the one network call; event-batch.ts runs
 * a whole queue batch through them with one read, one write and one sendBatch.
 */
import type { Config } from "../env";
import type { Db } from "../db/client";
import type { CommunicationRow } from "../db/communications";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "../db/webhooks";
import type { CommunicationStatus } from "../domain";
import { open } from "../lib/crypto";
import { bodyExcerpt, excerpt } from "../lib/excerpt";
import { fetchWithTimeout, RedirectRefused } from "../lib/http";
import { unsafeUrlReason } from "../lib/url-guard";
import { uuidv7 } from "../lib/ids";
import { signWebhook } from "../lib/standard-webhooks";
import type { EventMessage } from "./event-message";
import { CANCELLED_BY_ERASURE } from "../db/webhook-privacy";

/** Seconds before attempt 2, 3, …; after the last, the delivery is failed (and can be replayed). */
export const WEBHOOK_RETRY_DELAYS = [10, 60, 300, 1800, 7200] as const;
const TIMEOUT_MS = 10_000;

export const EVENT_TYPES = [...["sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed", "cancelled"].map(
  (s) => `communication.${s}`,
), "message.received", "inbox.action"];

export type WebhookDeps = { db: Db; events: Queue<EventMessage>; config: Config; now: () => Date };
export type Outcome = { action: "ack" } | { action: "retry"; delaySeconds: number };
export const ACK: Outcome = { action: "ack" };

export type StatusEvent = Extract<EventMessage, { kind: "status" }>;
export type DeliveryEvent = Extract<EventMessage, { kind: "delivery" }>;

export const endpointSecretAad = (tenantId: string, id: string) => `webhook_endpoint:${tenantId}:${id}`;

export const subscribed = (types: string[], type: string) => types.includes("*") || types.includes(type);

export const eventTypeOf = (m: StatusEvent) => `communication.${m.status}`;

/** The endpoints an event goes to: enabled and subscribed to its type (none for an unknown type). */
export function subscribers(endpoints: WebhookEndpointRow[], m: StatusEvent): WebhookEndpointRow[] {
  const type = eventTypeOf(m);
  if (!EVENT_TYPES.includes(type)) return [];
  return endpoints.filter((e) => e.enabled && subscribed(e.eventTypes, type));
}

/** One logged delivery per endpoint, all with the same payload and `webhook-id`. */
export function deliveryRows(m: StatusEvent, c: CommunicationRow, endpoints: WebhookEndpointRow[], now: Date): WebhookDeliveryRow[] {
  const type = eventTypeOf(m);
  const payload = JSON.stringify({
    type,
    timestamp: new Date(m.at).toISOString(),
    data: {
      id: c.id,
      status: m.status satisfies CommunicationStatus,
      channel: c.channel,
      type: c.type,
      recipientType: c.recipientType,
      recipientId: c.recipientId,
      entityType: c.entityType,
      entityId: c.entityId,
      provider: c.provider,
      providerMessageId: c.providerMessageId,
      errorMessage: c.errorMessage,
      metadata: c.metadata,
    },
  });
  return endpoints.map((e) => pendingDelivery(m.tenantId, e.id, { eventId: `evt_${c.id}_${m.status}`, eventType: type, payload, subjectId: c.id }, now));
}

/**
 * A delivery-log row not yet attempted: what every event type writes, one per endpoint. The
 * subject is what the payload is about (a communication, or a message's conversation): erasure
 * finds the row by it (src/db/webhook-privacy.ts).
 */
export const pendingDelivery = (
  tenantId: string,
  endpointId: string,
  event: { eventId: string; eventType: string; payload: string; subjectId: string },
  now: Date,
): WebhookDeliveryRow => ({
  id: uuidv7(now.getTime()),
  tenantId,
  endpointId,
  ...event,
  status: "pending",
  attempts: 0,
  lastStatusCode: null,
  lastError: null,
  createdAt: now,
  updatedAt: now,
  redacted: null,
});

/** What one attempt's read leads to: nothing to do, a failure without a call, or a call. */
export type AttemptPlan =
  | { kind: "done" }
  | { kind: "refuse"; patch: Partial<WebhookDeliveryRow> }
  | { kind: "call"; delivery: WebhookDeliveryRow; endpoint: WebhookEndpointRow };

export function planAttempt(config: Config, delivery: WebhookDeliveryRow | undefined, endpoint: WebhookEndpointRow | null | undefined, now: Date): AttemptPlan {
  if (!delivery || delivery.status !== "pending") return { kind: "done" };
  // Erasure cancels a pending delivery; an attempt that raced it may have put it back to pending.
  if (delivery.redacted) return { kind: "refuse", patch: { status: "failed", lastError: CANCELLED_BY_ERASURE, updatedAt: now } };
  if (!endpoint || !endpoint.enabled) return { kind: "refuse", patch: { status: "failed", lastError: "endpoint deleted or disabled", updatedAt: now } };
  // Checked again at each attempt: the rules may have tightened since the endpoint was saved (an
  // endpoint on a private address, accepted once on a developer's machine, is never called).
  const unsafe = unsafeUrlReason(endpoint.url, config.allowLoopbackUrls);
  if (unsafe) return { kind: "refuse", patch: { status: "failed", attempts: delivery.attempts + 1, lastError: `endpoint url ${unsafe}`, updatedAt: now } };
  return { kind: "call", delivery, endpoint };
}

export type CallResult = { status: number | null; error: string | null };

/** One signed POST to one endpoint. Throws only when the endpoint's secret cannot be opened. */
export async function callEndpoint(config: Config, endpoint: WebhookEndpointRow, delivery: WebhookDeliveryRow, now: Date): Promise<CallResult> {
  const secret = await open(config.encryptionKey, endpoint.tenantId, endpoint.secret, endpointSecretAad(endpoint.tenantId, endpoint.id));
  const headers = await signWebhook(secret, delivery.eventId, Math.floor(now.getTime() / 1000), delivery.payload);
  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetchWithTimeout(
      endpoint.url,
      { method: "POST", headers: { "content-type": "application/json", "user-agent": "Herald-Webhooks/1", ...headers }, body: delivery.payload },
      TIMEOUT_MS,
    );
    status = res.status;
    // The receiver's answer is read back by the tenant (lastError): an excerpt, never the body.
    if (!res.ok) error = `answered ${res.status}: ${await bodyExcerpt(res)}`;
    else await res.body?.cancel();
  } catch (e) {
    if (e instanceof RedirectRefused) status = e.status;
    error = (e as Error).name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : e instanceof RedirectRefused ? e.message : `request failed: ${excerpt((e as Error).message)}`;
  }
  return { status, error };
}

/** The attempt's record and the message's fate: succeeded, pending with back-off, or failed for good. */
export function afterCall(delivery: WebhookDeliveryRow, result: CallResult, now: Date): { patch: Partial<WebhookDeliveryRow>; outcome: Outcome } {
  const attempts = delivery.attempts + 1;
  if (!result.error) return { patch: { status: "succeeded", attempts, lastStatusCode: result.status, lastError: null, updatedAt: now }, outcome: ACK };
  const delay = WEBHOOK_RETRY_DELAYS[attempts - 1];
  return {
    patch: { status: delay === undefined ? "failed" : "pending", attempts, lastStatusCode: result.status, lastError: result.error, updatedAt: now },
    outcome: delay === undefined ? ACK : { action: "retry", delaySeconds: delay },
  };
}
