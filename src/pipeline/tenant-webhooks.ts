/**
 * Tenant webhooks, off the sending path: a status change on the events queue fans out to the
 * tenant's subscribed endpoints (one logged delivery each), and every delivery is attempted by
 * its own queue message, retried with back-off, so one slow or failing endpoint delays nothing
 * else. Receivers dedupe on `webhook-id`, which is stable per communication and status.
 */
import type { Config } from "../env";
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { getCommunication } from "../db/communications";
import { getDelivery, getEndpoint, insertDelivery, updateDelivery, type WebhookDeliveryRow } from "../db/webhooks";
import { cachedEndpoints } from "../cache/tenant-config";
import type { CommunicationStatus } from "../domain";
import { open } from "../lib/crypto";
import { bodyExcerpt, excerpt } from "../lib/excerpt";
import { fetchWithTimeout, RedirectRefused } from "../lib/http";
import { unsafeUrlReason } from "../lib/url-guard";
import { uuidv7 } from "../lib/ids";
import { signWebhook } from "../lib/standard-webhooks";
import type { EventMessage } from "./event-message";

/** Seconds before attempt 2, 3, …; after the last, the delivery is failed (and can be replayed). */
export const WEBHOOK_RETRY_DELAYS = [10, 60, 300, 1800, 7200] as const;
const TIMEOUT_MS = 10_000;

export const EVENT_TYPES = ["sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed", "cancelled"].map(
  (s) => `communication.${s}`,
);

export type WebhookDeps = { db: Db; events: Queue<EventMessage>; config: Config; now: () => Date };
export type Outcome = { action: "ack" } | { action: "retry"; delaySeconds: number };
const ACK: Outcome = { action: "ack" };

export const endpointSecretAad = (tenantId: string, id: string) => `webhook_endpoint:${tenantId}:${id}`;

const subscribed = (types: string[], type: string) => types.includes("*") || types.includes(type);

/**
 * Creates one logged delivery per subscribed endpoint and queues their first attempts. The
 * endpoints come from the tenant's per-isolate snapshot: an event for a tenant without any
 * costs no read. An endpoint added moments ago may miss events for up to TTL_MS elsewhere.
 */
export async function fanOut(deps: WebhookDeps, m: Extract<EventMessage, { kind: "status" }>): Promise<Outcome> {
  const type = `communication.${m.status}`;
  if (!EVENT_TYPES.includes(type)) return ACK;
  const endpoints = (await cachedEndpoints(deps.db, m.tenantId)).filter((e) => e.enabled && subscribed(e.eventTypes, type));
  if (endpoints.length === 0) return ACK;
  const c = await getCommunication(deps.db, m.tenantId, m.communicationId);
  if (!c) return ACK;
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
  const now = deps.now();
  const rows: WebhookDeliveryRow[] = endpoints.map((e) => ({
    id: uuidv7(),
    tenantId: m.tenantId,
    endpointId: e.id,
    eventId: `evt_${c.id}_${m.status}`,
    eventType: type,
    payload,
    status: "pending",
    attempts: 0,
    lastStatusCode: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  }));
  await runBatch(deps.db, rows.map((r) => insertDelivery(deps.db, r)));
  await deps.events.sendBatch(rows.map((r) => ({ body: { kind: "delivery", tenantId: r.tenantId, deliveryId: r.id } })));
  return ACK;
}

/** One attempt at one delivery. */
export async function attemptDelivery(deps: WebhookDeps, m: Extract<EventMessage, { kind: "delivery" }>): Promise<Outcome> {
  const delivery = await getDelivery(deps.db, m.tenantId, m.deliveryId);
  if (!delivery || delivery.status !== "pending") return ACK;
  const endpoint = await getEndpoint(deps.db, m.tenantId, delivery.endpointId);
  if (!endpoint || !endpoint.enabled) {
    await updateDelivery(deps.db, m.tenantId, delivery.id, { status: "failed", lastError: "endpoint deleted or disabled", updatedAt: deps.now() });
    return ACK;
  }
  // Checked again at each attempt: the rules may have tightened since the endpoint was saved (an
  // endpoint on a private address, accepted once on a developer's machine, is never called).
  const unsafe = unsafeUrlReason(endpoint.url, deps.config.allowLoopbackUrls);
  if (unsafe) {
    await updateDelivery(deps.db, m.tenantId, delivery.id, { status: "failed", attempts: delivery.attempts + 1, lastError: `endpoint url ${unsafe}`, updatedAt: deps.now() });
    return ACK;
  }
  const secret = await open(deps.config.encryptionKey, endpoint.tenantId, endpoint.secret, endpointSecretAad(endpoint.tenantId, endpoint.id));
  const now = deps.now();
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
  const attempts = delivery.attempts + 1;
  if (!error) {
    await updateDelivery(deps.db, m.tenantId, delivery.id, { status: "succeeded", attempts, lastStatusCode: status, lastError: null, updatedAt: now });
    return ACK;
  }
  const delay = WEBHOOK_RETRY_DELAYS[attempts - 1];
  await updateDelivery(deps.db, m.tenantId, delivery.id, {
    status: delay === undefined ? "failed" : "pending",
    attempts,
    lastStatusCode: status,
    lastError: error,
    updatedAt: now,
  });
  return delay === undefined ? ACK : { action: "retry", delaySeconds: delay };
}
