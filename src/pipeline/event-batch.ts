/**
 * A batch from the events queue, handled as one unit (STYLE 7a): the endpoints of every tenant in
 * it come from the tenant snapshot (a tenant without endpoints costs no read), one D1 round trip
 * reads the communications its status changes announce and the deliveries its attempts need,
 * the endpoint calls run 6 at a time (the Workers limit on open connections), one more round trip
 * writes every new delivery-log row and every attempt's outcome, and one sendBatch (per 100)
 * queues the new deliveries' first attempts. Each message still settles on its own: one whose
 * endpoint fails is retried with its back-off, one whose handling throws is reported as an error
 * for its consumer to retry, and neither touches its batch-mates.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { runBatch } from "../db/client";
import type { CommunicationRow } from "../db/communications";
import { announcedCommunication, deliveryOf, endpointOfDelivery, insertDelivery, recordAttempt, type WebhookDeliveryRow, type WebhookEndpointRow } from "../db/webhooks";
import { cachedEndpoints } from "../cache/tenant-config";
import { chunk } from "../lib/chunk";
import { mapPool } from "../lib/pool";
import type { EventMessage, WebhookEvent } from "./event-message";
import { ACK, afterCall, callEndpoint, deliveryRows, planAttempt, subscribers, type DeliveryEvent, type Outcome, type StatusEvent, type WebhookDeps } from "./tenant-webhooks";

/** Endpoint calls in flight at once: an invocation keeps at most 6 connections open. */
const CALLS_AT_ONCE = 6;
/** The most messages one Queues sendBatch takes. */
const SEND_BATCH_MAX = 100;

export type Settled = { outcome: Outcome } | { error: unknown };

/** One message's writes and follow-ups, and how it settles once they are done. */
type Work = { index: number; statements: BatchItem<"sqlite">[]; followUps: MessageSendRequest<EventMessage>[]; outcome: Outcome };

export async function handleEvents(deps: WebhookDeps, messages: WebhookEvent[]): Promise<Settled[]> {
  const { db } = deps;
  const settled = new Array<Settled | undefined>(messages.length);
  const statuses: { index: number; m: StatusEvent }[] = [];
  const attempts: { index: number; m: DeliveryEvent }[] = [];
  // A message named twice in one batch (a redelivery beside its original) is handled once: the
  // copy is acked, and the first settles for both.
  const seen = new Set<string>();
  messages.forEach((m, index) => {
    const key = m.kind === "status" ? `s\u0000${m.tenantId}\u0000${m.communicationId}\u0000${m.status}` : `d\u0000${m.tenantId}\u0000${m.deliveryId}`;
    if (seen.has(key)) return void (settled[index] = { outcome: ACK });
    seen.add(key);
    if (m.kind === "status") statuses.push({ index, m });
    else attempts.push({ index, m });
  });

  // Endpoints per tenant, from the snapshot; a tenant whose snapshot fails to load fails alone.
  const tenants = [...new Set(statuses.map((s) => s.m.tenantId))];
  const loaded = await Promise.allSettled(tenants.map((t) => cachedEndpoints(db, t)));
  const endpointsOf = new Map(tenants.map((t, i) => [t, loaded[i]!]));
  const fanning: { index: number; m: StatusEvent; to: WebhookEndpointRow[] }[] = [];
  for (const { index, m } of statuses) {
    const endpoints = endpointsOf.get(m.tenantId)!;
    if (endpoints.status === "rejected") settled[index] = { error: endpoints.reason };
    else {
      const to = subscribers(endpoints.value, m);
      if (to.length === 0) settled[index] = { outcome: ACK };
      else fanning.push({ index, m, to });
    }
  }

  // One round trip reads what the rest of the batch needs.
  let rows: unknown[][];
  try {
    rows = (await runBatch(db, [
      ...fanning.map((f) => announcedCommunication(db, f.m.tenantId, f.m.communicationId)),
      ...attempts.flatMap((a) => [deliveryOf(db, a.m.tenantId, a.m.deliveryId), endpointOfDelivery(db, a.m.tenantId, a.m.deliveryId)]),
    ])) as unknown[][];
  } catch (error) {
    for (const { index } of [...fanning, ...attempts]) settled[index] = { error };
    return settled as Settled[];
  }

  const work: Work[] = [];
  fanning.forEach((f, k) => {
    const [c] = rows[k] as CommunicationRow[];
    if (!c) return void (settled[f.index] = { outcome: ACK });
    const created = deliveryRows(f.m, c, f.to, deps.now());
    work.push({
      index: f.index,
      statements: created.map((r) => insertDelivery(db, r)),
      followUps: created.map((r) => ({ body: { kind: "delivery", tenantId: r.tenantId, deliveryId: r.id } })),
      outcome: ACK,
    });
  });
  const calls: { index: number; delivery: WebhookDeliveryRow; endpoint: WebhookEndpointRow }[] = [];
  attempts.forEach((a, k) => {
    const [delivery] = rows[fanning.length + 2 * k] as WebhookDeliveryRow[];
    const [endpoint] = rows[fanning.length + 2 * k + 1] as WebhookEndpointRow[];
    const plan = planAttempt(deps.config, delivery, endpoint, deps.now());
    if (plan.kind === "done") settled[a.index] = { outcome: ACK };
    else if (plan.kind === "refuse") work.push({ index: a.index, statements: [recordAttempt(db, a.m.tenantId, a.m.deliveryId, plan.patch)], followUps: [], outcome: ACK });
    else calls.push({ index: a.index, delivery: plan.delivery, endpoint: plan.endpoint });
  });

  await mapPool(calls, CALLS_AT_ONCE, async ({ index, delivery, endpoint }) => {
    try {
      const now = deps.now();
      const { patch, outcome } = afterCall(delivery, await callEndpoint(deps.config, endpoint, delivery, now), now);
      work.push({ index, statements: [recordAttempt(db, delivery.tenantId, delivery.id, patch)], followUps: [], outcome });
    } catch (error) {
      settled[index] = { error };
    }
  });

  const recorded = await record(deps, work, settled);
  await queueFollowUps(deps, recorded, settled);
  for (const w of recorded) settled[w.index] ??= { outcome: w.outcome };
  return settled as Settled[];
}

/**
 * Every outcome in one round trip. If that batch fails (one message's row broke the transaction,
 * say an endpoint deleted meanwhile), each message is written on its own so the rest still land.
 */
async function record(deps: WebhookDeps, work: Work[], settled: (Settled | undefined)[]): Promise<Work[]> {
  try {
    await runBatch(deps.db, work.flatMap((w) => w.statements));
    return work;
  } catch {
    const ok: Work[] = [];
    for (const w of work) {
      try {
        await runBatch(deps.db, w.statements);
        ok.push(w);
      } catch (error) {
        settled[w.index] = { error };
      }
    }
    return ok;
  }
}

/**
 * The first attempts of every delivery created, in one sendBatch per 100. A message whose
 * follow-ups were not queued is retried; its fan-out then logs fresh deliveries (receivers dedupe
 * on webhook-id, which stays the same).
 */
async function queueFollowUps(deps: WebhookDeps, recorded: Work[], settled: (Settled | undefined)[]) {
  const pending = recorded.flatMap((w) => w.followUps.map((body) => ({ body, index: w.index })));
  for (const part of chunk(pending, SEND_BATCH_MAX)) {
    try {
      await deps.events.sendBatch(part.map((p) => p.body));
    } catch (error) {
      for (const { index } of part) settled[index] = { error };
    }
  }
}
