/**
 * A queue batch is delivered as one unit: one D1 round trip claims and loads, one records, the
 * provider calls run concurrently, and one message's trouble stays its own.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import delivery from "../workers/delivery/src/index";
import api from "../src/index";
import type { Env } from "../src/env";
import type { SendMessage } from "../src/pipeline/queue-message";
import { addProvider, BASE, call, captureEvents, captureQueue, createTenant, mockProviders, SENDGRID, sendgridAccepts } from "./helpers";
import { countingDb } from "./d1-counter";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  captureEvents();
  ({ key } = await createTenant());
  await addProvider(key, SENDGRID());
});


let seq = 0;
async function runBatch(bodies: SendMessage[], e: Env = env) {
  const batch = createMessageBatch<SendMessage>("herald-sends", bodies.map((body) => ({ id: `b-${++seq}`, timestamp: new Date(), attempts: 1, body })));
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await delivery.queue(batch as MessageBatch<unknown>, e);
  await waitOnExecutionContext(ctx);
  return { result: await getQueueResult(batch, ctx), retries };
}

async function sendMany(items: Record<string, unknown>[]) {
  const res = await call("POST", "/api/communications/batch", { key, body: { items } });
  expect(res.status, res.text).toBe(201);
  return res.json.results.map((r: { id: string }) => r.id) as string[];
}
const email = (i: number, extra: Record<string, unknown> = {}) => ({ channel: "email", recipientContact: `r${i}@example.com`, subject: `S${i}`, content: `hello ${i}`, ...extra });
const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;

describe("a queue batch of sends", () => {
  it("delivers 20 sends in 2 D1 round trips and about 2 statements each, stats upserted once per group", async () => {
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const ids = await sendMany([...Array.from({ length: 10 }, (_, i) => email(i)), ...Array.from({ length: 10 }, (_, i) => email(10 + i, { type: "receipt" }))]);
    const { db, counts } = countingDb(env.DB);
    const { result } = await runBatch(queue.drain().map((m) => m.body), { ...env, DB: db });

    expect(net.requests).toHaveLength(20);
    expect(result.explicitAcks.length).toBe(20);
    for (const id of ids) expect((await detail(id)).status).toBe("sent");
    // Claim and load in one round trip, every outcome in one more (3 per message before batches).
    expect(counts.roundTrips).toBeLessThanOrEqual(4);
    expect(counts.roundTrips / 20).toBeLessThanOrEqual(0.2);
    // 36: 7 to claim and load (the tenant's settings and configs come from its cached snapshot), 29 to record.
    expect(counts.statements.length).toBeLessThanOrEqual(36);
    // Two (tenant, day, channel, type) groups: two upserts, not twenty.
    expect(counts.statements.filter((s) => /^insert into "communication_stats"/i.test(s))).toHaveLength(2);
    const stats = (await call("GET", "/api/communications/stats", { key })).json;
    expect(stats).toMatchObject({ totalAccepted: 20, totalSent: 20 });
    expect(stats.cost[0]).toMatchObject({ priced: 20 });
  });

  it("does not send a communication cancelled before its batch arrives, and sends its batch-mates", async () => {
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const [a, cancelled, c] = await sendMany([email(1), email(2), email(3)]);
    expect((await call("POST", `/api/communications/${cancelled}/cancel`, { key })).status).toBe(200);
    const { result } = await runBatch(queue.drain().map((m) => m.body));

    expect(net.requests.map((r) => JSON.parse(r.body).subject).sort()).toEqual(["S1", "S3"]);
    expect((await detail(cancelled!)).status).toBe("cancelled");
    expect([(await detail(a!)).status, (await detail(c!)).status]).toEqual(["sent", "sent"]);
    expect(result.explicitAcks.length).toBe(3);
  });

  it("sends a communication named twice in one batch once", async () => {
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    await sendMany([email(1)]);
    const [message] = queue.drain();
    await runBatch([message!.body, message!.body]);
    expect(net.requests).toHaveLength(1);
  });

  it("keeps a provider that throws on one message from failing its batch-mates", async () => {
    mockProviders({
      "https://sendgrid.mock": (req) => {
        if (JSON.parse(req.body).subject === "S2") throw new TypeError("connection reset");
        return sendgridAccepts()();
      },
    });
    const [a, bad, c] = await sendMany([email(1), email(2), email(3)]);
    const { retries } = await runBatch(queue.drain().map((m) => m.body));

    expect([(await detail(a!)).status, (await detail(c!)).status]).toEqual(["sent", "sent"]);
    expect(await detail(bad!)).toMatchObject({ status: "queued", retryCount: 1 });
    expect(retries.map((r) => r.mock.calls.length)).toEqual([0, 1, 0]);
  });

  it("records its batch-mates when one message's own write fails", async () => {
    // The row vanishes while its provider call is in flight: recording its timeline then breaks
    // the batch's transaction (foreign key), and each message is recorded on its own instead.
    let gone = "";
    mockProviders({
      "https://sendgrid.mock": async (req) => {
        const body = JSON.parse(req.body);
        if (body.subject === "S2") {
          gone = body.personalizations[0].custom_args.herald_communication_id;
          await env.DB.batch([env.DB.prepare("DELETE FROM communication_event WHERE communication_id = ?").bind(gone), env.DB.prepare("DELETE FROM communication WHERE id = ?").bind(gone)]);
        }
        return sendgridAccepts()();
      },
    });
    const [a, , c] = await sendMany([email(1), email(2), email(3)]);
    const { result, retries } = await runBatch(queue.drain().map((m) => m.body));

    expect(gone).not.toBe("");
    expect([(await detail(a!)).status, (await detail(c!)).status]).toEqual(["sent", "sent"]);
    expect(retries.map((r) => r.mock.calls.length)).toEqual([0, 1, 0]);
    expect(result.explicitAcks.length).toBe(2);
  });

  it("stops calling a failing provider within the batch once its breaker opens", async () => {
    const primary = await addProvider(key, SENDGRID({ priority: 0, settings: { from: "a@acme.test", baseUrl: "https://primary.mock", breaker: { failures: 3, cooldownSeconds: 120 } } }));
    const net = mockProviders({ "https://primary.mock": () => new Response("down", { status: 503 }), "https://sendgrid.mock": sendgridAccepts() });
    const ids = await sendMany(Array.from({ length: 12 }, (_, i) => email(i)));
    await runBatch(queue.drain().map((m) => m.body));

    const calls = net.requests.filter((r) => r.url.startsWith("https://primary.mock")).length;
    // The first six calls are in flight together; later messages see the open breaker and start
    // with the healthy provider (a batch used to call the failing one for every message).
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(8);
    for (const id of ids) expect((await detail(id)).status).toBe("sent");
    const health = (await call("GET", "/api/providers", { key })).json.results.find((p: { id: string }) => p.id === primary.id).health;
    expect(health.failureStreak).toBe(calls);
    expect(Date.parse(health.breakerOpenUntil)).toBeGreaterThan(Date.now() + 100_000);
  });

  it("reads no provider config or tenant rows when the tenant's config is cached, only the breaker columns", async () => {
    mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    // Accepting the sends read the tenant's snapshot in this isolate: the batch finds it warm.
    await sendMany([email(1), email(2), email(3)]);
    const { db, counts } = countingDb(env.DB);
    const { result } = await runBatch(queue.drain().map((m) => m.body), { ...env, DB: db });

    expect(result.explicitAcks.length).toBe(3);
    expect(counts.statements.filter((s) => /from "tenant"/i.test(s))).toEqual([]);
    const providerReads = counts.statements.filter((s) => /from "provider_config"/i.test(s));
    expect(providerReads).toHaveLength(1);
    expect(providerReads[0]).toMatch(/"failure_streak"/);
    expect(providerReads[0]).not.toMatch(/"credentials"|"settings"/);
  });

  it("decides on the breaker and the enabled configs as D1 has them, not as the cached snapshot does", async () => {
    // Another Worker's writes: straight to D1, so this isolate's snapshot is not forgotten.
    const primary = await addProvider(key, SENDGRID({ priority: 0, settings: { from: "a@acme.test", baseUrl: "https://primary.mock" } }));
    const net = mockProviders({ "https://primary.mock": sendgridAccepts(), "https://sendgrid.mock": sendgridAccepts(), "https://moved.mock": sendgridAccepts() });
    const hosts = () => net.requests.map((r) => new URL(r.url).host);

    await sendMany([email(1)]);
    await env.DB.prepare("UPDATE provider_config SET breaker_open_until = ?1 WHERE id = ?2").bind(Date.now() + 60_000, primary.id).run();
    await runBatch(queue.drain().map((m) => m.body));
    expect(hosts()).toEqual(["sendgrid.mock"]);

    await env.DB.prepare("UPDATE provider_config SET breaker_open_until = NULL, settings = ?1, updated_at = ?2 WHERE id = ?3")
      .bind(JSON.stringify({ from: "a@acme.test", baseUrl: "https://moved.mock" }), Date.now() + 1, primary.id)
      .run();
    await sendMany([email(2)]);
    await runBatch(queue.drain().map((m) => m.body));
    expect(hosts()).toEqual(["sendgrid.mock", "moved.mock"]);

    await env.DB.prepare("UPDATE provider_config SET enabled = 0, updated_at = ?1 WHERE id = ?2").bind(Date.now() + 2, primary.id).run();
    await sendMany([email(3)]);
    await runBatch(queue.drain().map((m) => m.body));
    expect(hosts()).toEqual(["sendgrid.mock", "moved.mock", "sendgrid.mock"]);
  });

  it("accepts and delivers 20 sends through /batch in at most 4 D1 statements each", async () => {
    mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const { db, counts } = countingDb(env.DB);
    const counted = { ...env, DB: db };
    const ctx = createExecutionContext();
    const res = await api.fetch(
      new Request(`${BASE}/api/communications/batch`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => email(i)) }),
      }),
      counted,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(201);
    await runBatch(queue.drain().map((m) => m.body), counted);
    // About 3 per message (24 to accept, 35 to deliver, in 4 round trips); the delivery receipt
    // adds 2–3 more (src/db/tracking.ts), inside the lifecycle's budget of 8.
    expect(counts.statements.length / 20).toBeLessThanOrEqual(4);
    expect(counts.roundTrips).toBeLessThanOrEqual(6);
  });
});
