/**
 * Outbound send rates per tenant and provider config: the consumer takes a token before calling a
 * provider, re-queues with the limiter's delay when there is none (no retry counted, no
 * failover), and backs off when a provider answers 429. The queue is played by hand: messages
 * the consumer retried come back when the (faked) clock reaches their delay.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SendMessage } from "../src/pipeline/queue-message";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts, type RecordedRequest } from "./helpers";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
const T0 = Date.parse("2026-11-20T12:00:00Z");

beforeEach(async () => {
  vi.restoreAllMocks();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});
afterEach(() => {
  vi.useRealTimers();
});

const email = (i: number) => ({ channel: "email", recipientContact: `user${i}@example.com`, subject: `Hi ${i}`, content: "Hello" });
async function sendEmails(n: number) {
  const res = await call("POST", "/api/communications/batch", { key, body: { items: Array.from({ length: n }, (_, i) => email(i)) } });
  expect(res.status).toBe(201);
  return queue.drain().map((m) => m.body);
}
const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
const communicationOf = (req: RecordedRequest) => JSON.parse(req.body).personalizations[0].custom_args.herald_communication_id as string;

/**
 * Plays the send queue: delivers what is due in batches of 10 (the consumer's batch size), holds
 * each retried message for the delay it was given, and moves the clock to the next one due.
 */
async function playQueue(bodies: SendMessage[]) {
  let pending = bodies.map((body) => ({ body, at: Date.now() }));
  const retries: { communicationId: string; delaySeconds: number }[] = [];
  for (let round = 0; pending.length; round++) {
    if (round > 50) throw new Error("the queue did not drain");
    const next = Math.min(...pending.map((p) => p.at));
    if (next > Date.now()) vi.setSystemTime(next);
    const due = pending.filter((p) => p.at <= Date.now()).slice(0, 10);
    pending = pending.filter((p) => !due.includes(p));
    const { retrySpies } = await runDelivery(due.map((d) => d.body));
    due.forEach((d, i) => {
      const retried = retrySpies[i]!.mock.calls[0]?.[0];
      if (!retried) return;
      retries.push({ communicationId: d.body.communicationId, delaySeconds: retried.delaySeconds! });
      pending.push({ body: d.body, at: Date.now() + retried.delaySeconds! * 1000 });
    });
  }
  return retries;
}

describe("outbound send rate", () => {
  it("delays sends past the rate but delivers every one, once, through the primary provider", async () => {
    // 2 per second with bursts of 3, from the provider config's settings.
    await addProvider(key, SENDGRID({ priority: 1, settings: { ...SENDGRID().settings, rateLimit: { perSecond: 2, burst: 3 } } }));
    await addProvider(key, { channel: "email", provider: "sandbox", priority: 2 });
    const sentAt: number[] = [];
    const net = mockProviders({
      "https://sendgrid.mock": (req) => {
        sentAt.push(Date.now() - T0);
        return sendgridAccepts(`sg-${communicationOf(req)}`)();
      },
    });
    const messages = await sendEmails(10);

    const retries = await playQueue(messages);

    // Each communication reached SendGrid exactly once; none failed over to the sandbox.
    const ids = messages.map((m) => m.communicationId);
    expect(net.requests.map(communicationOf).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const d = await detail(id);
      expect(d).toMatchObject({ status: "sent", provider: "sendgrid", retryCount: 0 });
      expect(d.events.map((e: { kind: string }) => e.kind)).not.toContain("failover");
    }
    // Three at once (the burst), then two per second: each waiter got its own slot and came back once.
    const perSecond = [0, 1, 2, 3, 4].map((s) => sentAt.filter((t) => t === s * 1000).length);
    expect(perSecond).toEqual([3, 2, 2, 2, 1]);
    expect(retries.map((r) => r.delaySeconds).sort()).toEqual([1, 1, 2, 2, 3, 3, 4]);
    expect(new Set(retries.map((r) => r.communicationId)).size).toBe(7);
  });

  it("releases the claim while a message waits, and notes why on its timeline", async () => {
    await addProvider(key, SENDGRID({ settings: { ...SENDGRID().settings, rateLimit: { perSecond: 1, burst: 1 } } }));
    mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const [first, second] = await sendEmails(2);
    await runDelivery([first!]);
    const { retrySpies } = await runDelivery([second!]);
    expect(retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 1 });

    const waiting = await detail(second!.communicationId);
    expect(waiting).toMatchObject({ status: "queued", retryCount: 0, nextRetryAt: new Date(T0 + 1000).toISOString() });
    expect(waiting.events.at(-1)).toMatchObject({ kind: "note", provider: "sendgrid", detail: { throttled: true, delaySeconds: 1 } });

    // A copy delivered early (at-least-once) waits again; at its slot it goes.
    expect((await runDelivery([second!])).retrySpies[0]).toHaveBeenCalled();
    vi.setSystemTime(T0 + 1000);
    const due = await runDelivery([second!]);
    expect(due.retrySpies[0]).not.toHaveBeenCalled();
    expect(await detail(second!.communicationId)).toMatchObject({ status: "sent" });
  });

  it("backs off when the provider answers 429, so the next messages wait instead of failing", async () => {
    await addProvider(key, SENDGRID()); // the default for SendGrid: 10 per second, bursts of 100
    let throttled = true;
    const net = mockProviders({
      "https://sendgrid.mock": () =>
        throttled
          ? new Response(JSON.stringify({ errors: [{ message: "too many requests" }] }), { status: 429, headers: { "retry-after": "30" } })
          : sendgridAccepts()(),
    });
    const [first, ...rest] = await sendEmails(3);

    // The first one meets the 429 and is retried on the usual schedule (it did fail).
    const hit = await runDelivery([first!]);
    expect(hit.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 60 });
    throttled = false;

    // The others do not call SendGrid during its Retry-After: they wait for it, one slot apart.
    const held = await runDelivery(rest);
    expect(net.requests).toHaveLength(1);
    expect(held.retrySpies.map((s) => s.mock.calls[0]?.[0]?.delaySeconds).sort()).toEqual([30, 31]);
    for (const m of rest) expect(await detail(m.communicationId)).toMatchObject({ status: "queued", retryCount: 0 });

    vi.setSystemTime(T0 + 30_000);
    await playQueue([...rest, first!]);
    expect(net.requests).toHaveLength(4);
    for (const m of [first!, ...rest]) expect(await detail(m.communicationId)).toMatchObject({ status: "sent" });
    expect((await detail(first!.communicationId)).retryCount).toBe(1);
  });

  it("holds sends back when the limiter cannot be reached rather than risk the provider account", async () => {
    await addProvider(key, SENDGRID());
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const [message] = await sendEmails(1);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const down = vi.spyOn(env.LIMITER, "getByName").mockImplementation(() => {
      throw new Error("Durable Object is overloaded");
    });
    const { retrySpies } = await runDelivery([message!]);
    down.mockRestore();
    expect(retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 5 });
    expect(net.requests).toHaveLength(0);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("send-rate limiter unreachable"));
    expect(await detail(message!.communicationId)).toMatchObject({ status: "queued", retryCount: 0 });
  });

  it("leaves the sandbox unthrottled", async () => {
    await addProvider(key, { channel: "email", provider: "sandbox" });
    const messages = await sendEmails(60); // more than the default burst of every provider but SendGrid
    expect(await playQueue(messages)).toEqual([]);
  });
});

describe("the provider buckets in the tenant's object", () => {
  const limit = { perSecond: 10, burst: 5 };

  it("gives each of many concurrent senders its own slot, exactly", async () => {
    const stub = env.LIMITER.getByName(tenantId);
    const waits = await Promise.all(Array.from({ length: 30 }, (_, i) => stub.takeProvider("provider:p1", limit, `c${i}`)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(waits.filter((w) => w > 0).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => (i + 1) * 100));

    // Asking again for the same ticket does not book a second slot.
    const booked = waits.findIndex((w) => w === 500);
    expect(await stub.takeProvider("provider:p1", limit, `c${booked}`)).toBe(500);
    // At its slot the ticket goes without taking another token; a newcomer queues after everyone.
    vi.setSystemTime(T0 + 500);
    expect(await stub.takeProvider("provider:p1", limit, `c${booked}`)).toBe(0);
    expect(await stub.takeProvider("provider:p1", limit, "late")).toBe(2100);
    // Other provider configs have their own buckets.
    expect(await stub.takeProvider("provider:p2", limit, "c0")).toBe(0);
  });

  it("voids bookings when the provider says 429, and rebooks them after its Retry-After", async () => {
    const stub = env.LIMITER.getByName(tenantId);
    for (let i = 0; i < 5; i++) await stub.takeProvider("provider:p1", limit, `burst${i}`);
    expect(await stub.takeProvider("provider:p1", limit, "a")).toBe(100);
    expect(await stub.takeProvider("provider:p1", limit, "b")).toBe(200);

    // The bucket was empty, so after the pause the first slot is one interval in.
    await stub.slowProvider("provider:p1", limit, 10);
    expect(await stub.takeProvider("provider:p1", limit, "a")).toBe(10_100);
    expect(await stub.takeProvider("provider:p1", limit, "b")).toBe(10_200);
    // Without a Retry-After the pause is 5 s.
    await stub.slowProvider("provider:p3", limit, null);
    expect(await stub.takeProvider("provider:p3", limit, "x")).toBe(5_000);
  });
});
