/**
 * A batch from the events queue is handled as one unit: endpoints from the tenant snapshot, one
 * D1 round trip to read, one to write, one sendBatch for the follow-ups, and every message
 * settled on its own.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import delivery from "../workers/delivery/src/index";
import type { Env } from "../src/env";
import type { EventMessage } from "../src/pipeline/event-message";
import { tenantConfigCache } from "../src/cache/tenant-config";
import { addProvider, call, captureEvents, captureQueue, createTenant, mockProviders } from "./helpers";
import { countingDb } from "./d1-counter";

const HOOK = "https://hooks.acme.test";
let events: ReturnType<typeof captureEvents>;

beforeEach(() => {
  vi.restoreAllMocks();
  captureQueue();
  events = captureEvents();
});


let seq = 0;
async function runEvents(bodies: EventMessage[], e: Env = env) {
  const batch = createMessageBatch<EventMessage>("herald-events", bodies.map((body) => ({ id: `e-${++seq}`, timestamp: new Date(), attempts: 1, body })));
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await delivery.queue(batch as MessageBatch<unknown>, e);
  await waitOnExecutionContext(ctx);
  return { result: await getQueueResult(batch, ctx), retries };
}

/** A tenant with `count` stored sms communications, and their ids. */
async function tenantWith(count: number, name: string) {
  const { key, tenantId } = await createTenant(name);
  await addProvider(key, { channel: "sms", provider: "sandbox" });
  const items = Array.from({ length: count }, (_, i) => ({ channel: "sms", recipientContact: `+1415555${String(1000 + i)}`, content: `hi ${i}` }));
  const res = await call("POST", "/api/communications/batch", { key, body: { items } });
  expect(res.status, res.text).toBe(201);
  return { key, tenantId, ids: res.json.results.map((r: { id: string }) => r.id) as string[] };
}

async function endpoint(key: string, path: string) {
  const res = await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/${path}` } });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string };
}

const status = (tenantId: string, communicationId: string, s: "sent" | "delivered" = "sent"): EventMessage => ({ kind: "status", tenantId, communicationId, status: s, at: Date.now() });
const sendBatches = () => vi.mocked(env.EVENT_QUEUE.sendBatch).mock.calls;

describe("a batch of status changes", () => {
  it("fans 20 events out in at most 0.2 D1 round trips each and one sendBatch", async () => {
    const a = await tenantWith(10, "With hooks");
    const b = await tenantWith(10, "Without hooks");
    await endpoint(a.key, "a");
    events.drain();
    const mixed = a.ids.flatMap((id, i) => [status(a.tenantId, id), status(b.tenantId, b.ids[i]!)]);

    // Cold: one snapshot load per tenant, then one read and one write for the whole batch.
    tenantConfigCache.clear();
    const cold = countingDb(env.DB);
    const { result } = await runEvents(mixed, { ...env, DB: cold.db });
    expect(result.explicitAcks).toHaveLength(20);
    expect(cold.counts.roundTrips).toBeLessThanOrEqual(4);
    expect(cold.counts.roundTrips / 20).toBeLessThanOrEqual(0.2);
    expect(sendBatches()).toHaveLength(1);
    const followUps = events.drain();
    expect(followUps).toHaveLength(10);
    expect(followUps.every((m) => m.kind === "delivery" && m.tenantId === a.tenantId)).toBe(true);

    // Warm: the read and the write, nothing else (one per message before batches, plus a sendBatch each).
    const warm = countingDb(env.DB);
    await runEvents(
      a.ids.flatMap((id, i) => [status(a.tenantId, id, "delivered"), status(b.tenantId, b.ids[i]!, "delivered")]),
      { ...env, DB: warm.db },
    );
    expect(warm.counts.roundTrips).toBe(2);
    expect(sendBatches()).toHaveLength(2);
    const log = await call("GET", `/api/webhooks/${(await call("GET", "/api/webhooks", { key: a.key })).json.results[0].id}/deliveries?limit=100`, { key: a.key });
    expect(log.json.results).toHaveLength(20);
  });

  it("costs no D1 read for a tenant without endpoints, once its snapshot is warm", async () => {
    const b = await tenantWith(10, "Quiet");
    await runEvents([status(b.tenantId, b.ids[0]!)]);
    const { db, counts } = countingDb(env.DB);
    const { result } = await runEvents(b.ids.map((id) => status(b.tenantId, id)), { ...env, DB: db });
    expect(result.explicitAcks).toHaveLength(10);
    expect(counts.roundTrips).toBe(0);
    expect(sendBatches()).toHaveLength(0);
  });
});

describe("a batch of delivery attempts", () => {
  it("keeps one failing endpoint from failing the others, in two round trips", async () => {
    const a = await tenantWith(1, "Three hooks");
    const [, broken] = [await endpoint(a.key, "one"), await endpoint(a.key, "broken"), await endpoint(a.key, "three")];
    const calls: string[] = [];
    mockProviders({ [HOOK]: (req) => (calls.push(new URL(req.url).pathname), new Response(req.url.endsWith("/broken") ? "down" : "ok", { status: req.url.endsWith("/broken") ? 500 : 200 })) });
    await runEvents([status(a.tenantId, a.ids[0]!)]);
    const attempts = events.drain();
    expect(attempts).toHaveLength(3);

    const { db, counts } = countingDb(env.DB);
    const { result, retries } = await runEvents(attempts, { ...env, DB: db });
    expect(calls.sort()).toEqual(["/broken", "/one", "/three"]);
    expect(counts.roundTrips).toBe(2);
    expect(result.explicitAcks).toHaveLength(2);
    const retried = retries.map((r, i) => [i, r.mock.calls] as const).filter(([, c]) => c.length);
    expect(retried).toHaveLength(1);
    expect(retried[0]![1]).toEqual([[{ delaySeconds: 10 }]]);
    const log = await call("GET", `/api/webhooks/${broken.id}/deliveries`, { key: a.key });
    expect(log.json.results).toEqual([expect.objectContaining({ status: "pending", attempts: 1, lastStatusCode: 500 })]);
  });

  it("retries only the message whose handling throws, and records its batch-mates", async () => {
    const a = await tenantWith(1, "Bad secret");
    const [, bad] = [await endpoint(a.key, "one"), await endpoint(a.key, "bad")];
    // A secret that no longer opens (a rotated key, say): signing throws for that delivery alone.
    await env.DB.prepare("UPDATE webhook_endpoint SET secret = 'not-sealed' WHERE id = ?").bind(bad.id).run();
    const calls: string[] = [];
    mockProviders({ [HOOK]: (req) => (calls.push(new URL(req.url).pathname), new Response("ok")) });
    await runEvents([status(a.tenantId, a.ids[0]!)]);
    const { result, retries } = await runEvents(events.drain());
    expect(calls).toEqual(["/one"]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(retries.flatMap((r) => r.mock.calls)).toEqual([[{ delaySeconds: 30 }]]);
  });

  it("calls an endpoint once for a delivery named twice in one batch", async () => {
    const a = await tenantWith(1, "Twice");
    await endpoint(a.key, "one");
    const calls: string[] = [];
    mockProviders({ [HOOK]: (req) => (calls.push(req.url), new Response("ok")) });
    const twice = status(a.tenantId, a.ids[0]!);
    await runEvents([twice, twice]);
    const attempts = events.drain();
    expect(attempts).toHaveLength(1);
    const { result } = await runEvents([attempts[0]!, attempts[0]!]);
    expect(calls).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(2);
  });
});
