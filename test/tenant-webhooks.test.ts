import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureEvents, captureQueue, createTenant, mockProviders, runDelivery, testEnv, type RecordedRequest } from "./helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;
let events: ReturnType<typeof captureEvents>;
const HOOK = "https://hooks.acme.test";

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  events = captureEvents();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "sms", provider: "sandbox" });
});

async function endpoint(body: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/herald`, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; secret: string };
}

async function sendAndDeliver() {
  const res = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550123", content: "hi", metadata: { orderId: "o-1" } } });
  await runDelivery(queue.drain().map((m) => m.body));
  return res.json.id as string;
}

/** Runs the events consumer until nothing new is queued (fan-out, then attempts). */
async function drainEvents() {
  const results = [];
  for (let round = 0; round < 5 && events.sent.length; round++) results.push(await runDelivery(events.drain(), { queue: "herald-events" }));
  return results;
}

describe("tenant webhooks", () => {
  it("delivers subscribed status changes signed per Standard Webhooks", async () => {
    const ep = await endpoint({ eventTypes: ["communication.delivered"] });
    const received: RecordedRequest[] = [];
    mockProviders({ [HOOK]: (req) => (received.push(req), new Response("ok")) });
    const id = await sendAndDeliver();
    expect(events.sent.map((e) => (e.kind === "status" ? e.status : e.kind))).toEqual(["sent", "delivered"]);
    await drainEvents();

    expect(received).toHaveLength(1);
    const req = received[0]!;
    const headers = Object.fromEntries(req.headers);
    const payload = new Webhook(ep.secret).verify(req.body, headers) as { type: string; data: Record<string, unknown> };
    expect(payload).toMatchObject({ type: "communication.delivered", data: { id, status: "delivered", channel: "sms", metadata: { orderId: "o-1" } } });
    expect(headers["webhook-id"]).toBe(`evt_${id}_delivered`);
    expect(() => new Webhook(ep.secret).verify(req.body.replace("delivered", "failed"), headers)).toThrow();

    const log = await call("GET", `/api/webhooks/${ep.id}/deliveries`, { key });
    expect(log.json.results).toEqual([expect.objectContaining({ status: "succeeded", attempts: 1, lastStatusCode: 200, eventType: "communication.delivered" })]);
  });

  it("retries a failing endpoint with back-off, and replays a failed delivery", async () => {
    const ep = await endpoint();
    let healthy = false;
    mockProviders({ [HOOK]: () => (healthy ? new Response("ok") : new Response("boom", { status: 500 })) });
    await sendAndDeliver();
    events.sent.splice(0, 1); // keep only `delivered`
    const fan = await runDelivery(events.drain(), { queue: "herald-events" });
    expect(fan.result.explicitAcks).toHaveLength(1);

    // The first attempt fails; the consumer asks the queue to retry later.
    const delivery = events.drain();
    const { retrySpies } = await runDelivery(delivery, { queue: "herald-events" });
    expect(retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 10 });
    let log = (await call("GET", `/api/webhooks/${ep.id}/deliveries`, { key })).json.results[0];
    expect(log).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: 500, lastError: "answered 500: boom" });

    // Every retry fails until the schedule runs out: the delivery is failed, not lost.
    for (let i = 0; i < 5; i++) await runDelivery(delivery, { queue: "herald-events" });
    log = (await call("GET", `/api/webhooks/${ep.id}/deliveries`, { key })).json.results[0];
    expect(log).toMatchObject({ status: "failed", attempts: 6 });

    healthy = true;
    const replay = await call("POST", `/api/webhooks/${ep.id}/deliveries/${log.id}/replay`, { key });
    expect(replay.status).toBe(202);
    await drainEvents();
    log = (await call("GET", `/api/webhooks/${ep.id}/deliveries`, { key })).json.results[0];
    expect(log).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("does not slow sending: delivery only announces, the endpoint is called by the events consumer", async () => {
    await endpoint();
    const net = mockProviders({ [HOOK]: () => new Response("ok") });
    await sendAndDeliver();
    expect(net.requests).toHaveLength(0);
    expect(events.sent.length).toBeGreaterThan(0);
  });

  it("skips endpoints that are disabled or not subscribed", async () => {
    await endpoint({ eventTypes: ["communication.failed"] });
    await endpoint({ enabled: false });
    const net = mockProviders({ [HOOK]: () => new Response("ok") });
    await sendAndDeliver();
    await drainEvents();
    expect(net.requests).toHaveLength(0);
  });

  it("validates endpoint URLs and event types", async () => {
    for (const [url, message] of [
      ["http://hooks.acme.test/x", "must use https"],
      ["https://169.254.169.254/latest", "must not point at a private or local address"],
      ["https://localhost:8080/x", "must not point at a private or local address"],
      ["https://localhost./x", "must not point at a private or local address"],
      ["https://[::127.0.0.1]/x", "must not point at a private or local address"],
      ["https://[64:ff9b::7f00:1]/x", "must not point at a private or local address"],
      ["https://0x7f.1/x", "must not point at a private or local address"],
      ["https://[::ffff:a9fe:a9fe]/x", "must not point at a private or local address"],
    ]) {
      const res = await call("POST", "/api/webhooks", { key, body: { url } });
      expect(res.status, url).toBe(422);
      expect(res.json.errors[0]).toEqual({ field: "url", message });
    }
    const badType = await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/x`, eventTypes: ["communication.exploded"] } });
    expect(badType.json.errors[0].field).toBe("eventTypes.0");
  });

  it("shows the secret only once and keeps endpoints per tenant", async () => {
    const ep = await endpoint();
    expect(ep.secret).toMatch(/^whsec_/);
    const shown = await call("GET", `/api/webhooks/${ep.id}`, { key });
    expect(shown.text).not.toContain(ep.secret);
    const patched = await call("PATCH", `/api/webhooks/${ep.id}`, { key, body: { eventTypes: ["communication.failed"], enabled: false } });
    expect(patched.json).toMatchObject({ eventTypes: ["communication.failed"], enabled: false });

    const other = await createTenant("Other");
    for (const [method, path] of [
      ["GET", `/api/webhooks/${ep.id}`],
      ["PATCH", `/api/webhooks/${ep.id}`],
      ["DELETE", `/api/webhooks/${ep.id}`],
      ["GET", `/api/webhooks/${ep.id}/deliveries`],
      ["POST", `/api/webhooks/${ep.id}/deliveries/x/replay`],
    ] as const) {
      expect((await call(method, path, { key: other.key, body: method === "PATCH" ? { enabled: true } : undefined })).status, path).toBe(404);
    }
    expect((await call("GET", "/api/webhooks", { key: other.key })).json.results).toEqual([]);
    expect((await call("DELETE", `/api/webhooks/${ep.id}`, { key })).status).toBe(204);
  });

  it("does not follow an endpoint's redirect, and says why", async () => {
    const ep = await endpoint();
    const net = mockProviders({
      [HOOK]: () => new Response(null, { status: 302, headers: { location: "http://127.0.0.1:8080/admin" } }),
      "http://127.0.0.1:8080": () => new Response("internal secrets"),
    });
    await sendAndDeliver();
    await drainEvents();
    expect(net.requests.length).toBeGreaterThan(0);
    expect(net.requests.filter((r) => !r.url.startsWith(HOOK))).toEqual([]);
    const log = (await call("GET", `/api/webhooks/${ep.id}/deliveries`, { key })).json.results;
    expect(log[0]).toMatchObject({ status: "pending", lastStatusCode: 302, lastError: expect.stringContaining("does not follow redirects") });
  });

  it("keeps only a short, inert excerpt of what an endpoint answered", async () => {
    const ep = await endpoint();
    const page = `<html><script>document.location="https://evil.test"</script><h1>Server\u0000 Error</h1>\u202e${"A".repeat(50_000)}</html>`;
    mockProviders({ [HOOK]: () => new Response(page, { status: 500, headers: { "content-type": "text/html" } }) });
    await sendAndDeliver();
    await drainEvents();
    const { lastError } = (await call("GET", `/api/webhooks/${ep.id}/deliveries`, { key })).json.results[0];
    expect(lastError).toMatch(/^answered 500: Server Error A+…$/);
    expect(lastError.length).toBeLessThanOrEqual("answered 500: ".length + 200);
  });

  it("never calls an endpoint stored with a private address", async () => {
    const ep = await endpoint();
    // Saved before the guard knew this spelling (or on a machine that allowed it).
    await testEnv.DB.prepare("UPDATE webhook_endpoint SET url = ? WHERE id = ?").bind("https://[::ffff:10.0.0.5]/hook", ep.id).run();
    const net = mockProviders({ "https://[::ffff:a00:5]": () => new Response("ok") });
    await sendAndDeliver();
    await drainEvents();
    expect(net.requests).toHaveLength(0);
    const log = (await call("GET", `/api/webhooks/${ep.id}/deliveries`, { key })).json.results;
    expect(log[0]).toMatchObject({ status: "failed", lastError: "endpoint url must not point at a private or local address" });
  });
});
