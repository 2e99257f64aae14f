import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import api from "../src/index";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  addProvider,
  call,
  captureQueue,
  createTenant,
  hangs,
  json,
  mockProviders,
  runDelivery,
  SENDGRID,
  sendgridAccepts,
  TWILIO,
  TWILIO_SID,
  twilioAccepts,
} from "./helpers";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});

async function send(body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}
const emailBody = { channel: "email", recipientContact: "john@example.com", recipientName: "John Doe", subject: "Invoice INV-1", content: "<p>Total: <b>$10</b></p>" };
const smsBody = { channel: "sms", recipientContact: "+14155550123", content: "Your code is 123456" };
const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
const deliverEnqueued = () => runDelivery(queue.drain().map((m) => m.body));

describe("the SendGrid adapter", () => {
  it("posts the v3 mail send request and records the X-Message-Id", async () => {
    await addProvider(key, SENDGRID());
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-abc") });
    const id = await send(emailBody);
    await deliverEnqueued();

    expect(net.requests).toHaveLength(1);
    const req = net.requests[0]!;
    expect(req.url).toBe("https://sendgrid.mock/v3/mail/send");
    expect(req.method).toBe("POST");
    expect(req.headers.get("authorization")).toBe("Bearer SG.test-key");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      personalizations: [
        {
          to: [{ email: "john@example.com", name: "John Doe" }],
          custom_args: { herald_communication_id: id, herald_tenant_id: tenantId },
        },
      ],
      from: { email: "billing@acme.test", name: "Acme Billing" },
      subject: "Invoice INV-1",
      content: [
        { type: "text/plain", value: "Total: $10" },
        { type: "text/html", value: "<p>Total: <b>$10</b></p>" },
      ],
    });
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", provider: "sendgrid", providerMessageId: "sg-abc" });
    expect(d.sentAt).toBeTruthy();
  });
});

describe("the Twilio adapter", () => {
  it.each([
    ["sms", "+14155550123", "+14155550123", "+14155550100"],
    ["whatsapp", "+14155550123", "whatsapp:+14155550123", "whatsapp:+14155550100"],
    ["messenger", "1234567890", "messenger:1234567890", "messenger:+14155550100"],
  ])("sends %s form-encoded with Basic auth and a status callback", async (channel, contact, to, from) => {
    const p = await addProvider(key, TWILIO({ channel }));
    const net = mockProviders({ "https://twilio.mock": twilioAccepts("SM123") });
    const id = await send({ channel, recipientContact: contact, content: "Invoice ready" });
    await deliverEnqueued();

    const req = net.requests[0]!;
    expect(req.url).toBe(`https://twilio.mock/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
    expect(req.headers.get("authorization")).toBe(`Basic ${btoa(`${TWILIO_SID}:twilio-auth-token`)}`);
    expect(req.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(req.body);
    expect(Object.fromEntries(form)).toEqual({
      To: to,
      From: from,
      Body: "Invoice ready",
      StatusCallback: `${p.webhookUrl}?c=${id}`,
    });
    expect(await detail(id)).toMatchObject({ status: "sent", provider: "twilio", providerMessageId: "SM123" });
  });

  it("passes attachment URLs as repeated MediaUrl", async () => {
    await addProvider(key, TWILIO({ channel: "whatsapp" }));
    const net = mockProviders({ "https://twilio.mock": twilioAccepts() });
    await send({
      channel: "whatsapp",
      recipientContact: "+14155550123",
      content: "Your invoice",
      attachments: [
        { filename: "a.pdf", fileUrl: "https://files.test/a.pdf" },
        { filename: "b.pdf", fileUrl: "https://files.test/b.pdf" },
      ],
    });
    await deliverEnqueued();
    expect(new URLSearchParams(net.requests[0]!.body).getAll("MediaUrl")).toEqual(["https://files.test/a.pdf", "https://files.test/b.pdf"]);
  });
});

describe("failover", () => {
  it("sends through the next provider when the first answers 503, within the same attempt", async () => {
    await addProvider(key, { channel: "sms", provider: "twilio", priority: 1, credentials: TWILIO().credentials, settings: { from: "+14155550100", baseUrl: "https://primary.mock" } });
    await addProvider(key, { channel: "sms", provider: "twilio", priority: 2, credentials: TWILIO().credentials, settings: { from: "+14155550100", baseUrl: "https://secondary.mock" } });
    const net = mockProviders({
      "https://primary.mock": json(503, { code: 20500, message: "Service unavailable" }),
      "https://secondary.mock": twilioAccepts("SM-secondary"),
    });
    const id = await send(smsBody);
    const { result, retrySpies } = await deliverEnqueued();

    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual(["https://primary.mock", "https://secondary.mock"]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", providerMessageId: "SM-secondary", retryCount: 0 });
    const kinds = d.events.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(["status", "attempt", "failover", "attempt", "status"]);
    expect(d.events[1]).toMatchObject({ httpStatus: 503, error: expect.stringContaining("Service unavailable") });
  });

  it("fails over on a network error and on a provider that hangs past its timeout", async () => {
    await addProvider(key, { channel: "sms", provider: "twilio", priority: 1, credentials: TWILIO().credentials, settings: { from: "+14155550100", baseUrl: "https://unreachable.mock" } });
    await addProvider(key, { channel: "sms", provider: "twilio", priority: 2, credentials: TWILIO().credentials, settings: { from: "+14155550100", baseUrl: "https://hangs.mock", timeoutMs: 100 } });
    await addProvider(key, { channel: "sms", provider: "sandbox", priority: 3 });
    const net = mockProviders({ "https://hangs.mock": hangs });
    const id = await send(smsBody);
    await deliverEnqueued();
    expect(net.requests).toHaveLength(2);
    const d = await detail(id);
    expect(d).toMatchObject({ status: "delivered", provider: "sandbox" });
    const attempts = d.events.filter((e: { kind: string }) => e.kind === "attempt");
    expect(attempts[0].error).toMatch(/request failed/);
    expect(attempts[1].error).toMatch(/did not answer in time/);
    // Twilio may have taken the message after Herald gave up on it: the failover says so.
    const failovers = d.events.filter((e: { kind: string }) => e.kind === "failover");
    expect(failovers[0].detail).toBeNull();
    expect(failovers[1].detail).toEqual({ afterTimeout: true, possibleDuplicate: true, idempotencyKey: false });
  });

  it("marks a failover after a timed-out Resend call, which got the communication id as its idempotency key", async () => {
    await addProvider(key, { channel: "email", provider: "resend", priority: 1, credentials: { apiKey: "re_test" }, settings: { from: "billing@acme.test", baseUrl: "https://resend.mock", timeoutMs: 100 } });
    await addProvider(key, SENDGRID({ priority: 2 }));
    const net = mockProviders({ "https://resend.mock": hangs, "https://sendgrid.mock": sendgridAccepts() });
    const id = await send(emailBody);
    await deliverEnqueued();
    expect(net.requests[0]!.headers.get("idempotency-key")).toBe(id);
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", provider: "sendgrid" });
    expect(d.events.find((e: { kind: string }) => e.kind === "failover").detail).toEqual({ afterTimeout: true, possibleDuplicate: true, idempotencyKey: true });
  });

  it("does not follow a provider's redirect, and keeps only an excerpt of what a provider said", async () => {
    await addProvider(key, { channel: "sms", provider: "twilio", priority: 1, credentials: TWILIO().credentials, settings: { from: "+14155550100", baseUrl: "https://moved.mock" } });
    await addProvider(key, TWILIO({ priority: 2 }));
    const said = `<b>The 'To' number</b>\u0000\r\n is not valid ${"x".repeat(5000)}`;
    const net = mockProviders({
      "https://moved.mock": () => new Response(null, { status: 307, headers: { location: "http://127.0.0.1:9000/latest/meta-data" } }),
      "http://127.0.0.1:9000": twilioAccepts(),
      "https://twilio.mock": json(400, { code: 21211, message: said }),
    });
    const id = await send(smsBody);
    await deliverEnqueued();
    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual(["https://moved.mock", "https://twilio.mock"]);
    const d = await detail(id);
    const attempts = d.events.filter((e: { kind: string }) => e.kind === "attempt");
    expect(attempts[0]).toMatchObject({ httpStatus: 307, error: expect.stringContaining("does not follow redirects") });
    expect(d.events.map((e: { kind: string }) => e.kind)).toContain("failover");
    expect(d).toMatchObject({ status: "failed", errorMessage: expect.stringMatching(/^Twilio answered 400 \(error 21211\): The 'To' number is not valid x+…$/) });
    expect(d.errorMessage.length).toBeLessThanOrEqual(300);
  });

  it("fails over when a provider rejects our credentials, but does not retry it", async () => {
    await addProvider(key, SENDGRID({ priority: 1 }));
    const net = mockProviders({ "https://sendgrid.mock": json(401, { errors: [{ message: "The provided authorization grant is invalid" }] }) });
    const id = await send(emailBody);
    const { retrySpies } = await deliverEnqueued();
    expect(net.requests).toHaveLength(1);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await detail(id)).toMatchObject({ status: "failed", errorMessage: expect.stringContaining("authorization grant is invalid") });
  });

  it("does not fail over a permanent rejection of the message itself", async () => {
    await addProvider(key, TWILIO({ priority: 1 }));
    await addProvider(key, { channel: "sms", provider: "sandbox", priority: 2 });
    const net = mockProviders({ "https://twilio.mock": json(400, { code: 21211, message: "The 'To' number is not a valid phone number." }) });
    const id = await send(smsBody);
    const { retrySpies } = await deliverEnqueued();
    expect(net.requests).toHaveLength(1);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    const d = await detail(id);
    expect(d).toMatchObject({ status: "failed", provider: "twilio" });
    expect(d.errorMessage).toMatch(/21211.*not a valid phone number/);
    expect(d.failedAt).toBeTruthy();
    expect(d.events.map((e: { kind: string }) => e.kind)).not.toContain("failover");
  });

  it("treats Twilio's 20429 concurrency error as retryable", async () => {
    await addProvider(key, TWILIO({ priority: 1 }));
    await addProvider(key, { channel: "sms", provider: "sandbox", priority: 2 });
    mockProviders({ "https://twilio.mock": json(400, { code: 20429, message: "Too Many Requests" }) });
    const id = await send(smsBody);
    await deliverEnqueued();
    expect((await detail(id)).provider).toBe("sandbox");
  });
});

describe("retries", () => {
  it("backs off when every provider failed retryably, then sends on the next delivery", async () => {
    await addProvider(key, SENDGRID());
    let up = false;
    const net = mockProviders({ "https://sendgrid.mock": () => (up ? sendgridAccepts("sg-late")() : new Response("overloaded", { status: 502 })) });
    const id = await send(emailBody);
    const [message] = queue.drain();

    const first = await runDelivery([message!.body]);
    expect(first.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 60 });
    let d = await detail(id);
    expect(d).toMatchObject({ status: "queued", retryCount: 1, errorMessage: "SendGrid answered 502" });
    expect(Date.parse(d.nextRetryAt) - Date.now()).toBeGreaterThan(55_000);

    // A redelivery that arrives before the back-off is over waits again instead of sending.
    const early = await runDelivery([message!.body]);
    expect(early.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: expect.any(Number) });
    expect(net.requests).toHaveLength(1);

    // When the retry is due, the provider is back.
    await env.DB.prepare("UPDATE communication SET next_retry_at = ? WHERE id = ?").bind(Date.now() - 1, id).run();
    up = true;
    const second = await runDelivery([message!.body]);
    expect(second.result.explicitAcks).toHaveLength(1);
    d = await detail(id);
    expect(d).toMatchObject({ status: "sent", providerMessageId: "sg-late", retryCount: 1, errorMessage: null });
    expect(d.events.filter((e: { kind: string }) => e.kind === "retry")).toHaveLength(1);
  });

  it("honours a provider's Retry-After when it is longer than the back-off", async () => {
    await addProvider(key, SENDGRID());
    mockProviders({ "https://sendgrid.mock": json(429, { errors: [{ message: "rate limited" }] }, { "retry-after": "600" }) });
    await send(emailBody);
    const { retrySpies } = await deliverEnqueued();
    expect(retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 600 });
  });

  it("gives up after the last retry and records the last error", async () => {
    await addProvider(key, SENDGRID());
    mockProviders({ "https://sendgrid.mock": () => new Response("down", { status: 503 }) });
    const id = await send(emailBody);
    const [message] = queue.drain();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await env.DB.prepare("UPDATE communication SET next_retry_at = NULL WHERE id = ?").bind(id).run();
      const { retrySpies } = await runDelivery([message!.body]);
      const call = retrySpies[0]!.mock.calls[0]?.[0] as { delaySeconds: number } | undefined;
      if (call) delays.push(call.delaySeconds);
    }
    expect(delays).toEqual([60, 300, 900, 3600]);
    const d = await detail(id);
    expect(d).toMatchObject({ status: "failed", retryCount: 4 });
    expect(d.errorMessage).toMatch(/gave up after 5 attempts: SendGrid answered 503/);
  });
});

describe("at-least-once queue delivery", () => {
  it("calls the provider once when the same message is delivered twice, even concurrently", async () => {
    await addProvider(key, TWILIO());
    const net = mockProviders({ "https://twilio.mock": twilioAccepts() });
    const id = await send(smsBody);
    const [message] = queue.drain();
    await Promise.all([runDelivery([message!.body]), runDelivery([message!.body])]);
    await runDelivery([message!.body]);
    expect(net.requests).toHaveLength(1);
    expect((await detail(id)).status).toBe("sent");
  });

  it("fails a communication whose provider config disappeared, with the reason", async () => {
    const p = await addProvider(key, TWILIO());
    const id = await send(smsBody);
    await call("DELETE", `/api/providers/${p.id}`, { key });
    await deliverEnqueued();
    expect(await detail(id)).toMatchObject({ status: "failed", errorMessage: 'no provider is configured for channel "sms"' });
  });

  it("retries a message whose handling throws, and dead-letters end as failed", async () => {
    await addProvider(key, { channel: "sms", provider: "sandbox" });
    const id = await send(smsBody);
    const [message] = queue.drain();
    const prepare = vi.spyOn(env.DB, "prepare").mockImplementation(() => {
      throw new Error("D1_ERROR: database is unavailable");
    });
    const crashed = await runDelivery([message!.body]);
    prepare.mockRestore();
    expect(crashed.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 30 });

    await runDelivery([message!.body], { queue: "herald-sends-dlq" });
    const d = await detail(id);
    expect(d).toMatchObject({ status: "failed", errorMessage: expect.stringContaining("dead-lettered") });
    expect(d.events.at(-1)).toMatchObject({ kind: "status", status: "failed", detail: { deadLettered: true } });
  });

  it("never fails a communication because a follow-up message (receipt check) was dead-lettered", async () => {
    await addProvider(key, { channel: "sms", provider: "sandbox", settings: { outcome: "sent" } });
    const id = await send(smsBody);
    await deliverEnqueued();
    await runDelivery([{ v: 1, tenantId, communicationId: id, check: { providerConfigId: "x", windowSeconds: 30 } }], { queue: "herald-sends-dlq" });
    expect((await detail(id)).status).toBe("sent");
  });

  it("leaves a dead-lettered message alone if it was delivered meanwhile", async () => {
    await addProvider(key, { channel: "sms", provider: "sandbox" });
    const id = await send(smsBody);
    const [message] = queue.drain();
    await runDelivery([message!.body]);
    await runDelivery([message!.body], { queue: "herald-sends-dlq" });
    expect((await detail(id)).status).toBe("delivered");
  });

  it("acks malformed messages and refuses unknown queues", async () => {
    const { result } = await runDelivery([{ nonsense: true } as never]);
    expect(result.explicitAcks).toHaveLength(1);
    await expect(runDelivery([], { queue: "someone-elses-queue" })).rejects.toThrow(/no handler/);
  });
});

describe("scheduled sends", () => {
  it("waits when delivered early and sends when due", async () => {
    await addProvider(key, { channel: "sms", provider: "sandbox" });
    const at = Date.now() + 30 * 3600_000;
    const id = await send({ ...smsBody, scheduledAt: new Date(at).toISOString() });
    const [message] = queue.drain();
    expect(message!.delaySeconds).toBe(12 * 3600);

    // The 12-hour hop arrives; 18 hours remain, so it re-enqueues another hop instead of a retry.
    const hop = await runDelivery([message!.body]);
    expect(hop.result.explicitAcks).toHaveLength(1);
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]!.delaySeconds).toBe(12 * 3600);
    expect((await detail(id)).status).toBe("scheduled");

    await env.DB.prepare("UPDATE communication SET scheduled_at = ? WHERE id = ?").bind(Date.now() - 1, id).run();
    await runDelivery([queue.drain()[0]!.body]);
    expect((await detail(id)).status).toBe("delivered");
  });
});

describe("the cron sweep", () => {
  it("re-enqueues what the queue lost and recovers a delivery that died mid-send, without double sends", async () => {
    await addProvider(key, TWILIO());
    const net = mockProviders({ "https://twilio.mock": twilioAccepts() });
    const lost = await send(smsBody);
    const stuck = await send({ ...smsBody, content: "second" });
    const fresh = await send({ ...smsBody, content: "third" });
    queue.drain(); // the queue "loses" all three
    const old = Date.now() - 10 * 60_000;
    await env.DB.prepare("UPDATE communication SET enqueued_at = ? WHERE id = ?").bind(old, lost).run();
    await env.DB.prepare("UPDATE communication SET status = 'sending', claimed_at = ?, enqueued_at = ? WHERE id = ?").bind(old, old, stuck).run();

    const ctx = createExecutionContext();
    await api.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const ids = queue.sent.map((m) => m.body.communicationId).sort();
    expect(ids).toEqual([lost, stuck].sort());
    expect(ids).not.toContain(fresh);
    await runDelivery(queue.drain().map((m) => m.body));
    expect(net.requests).toHaveLength(2);
    expect((await detail(lost)).status).toBe("sent");
    expect((await detail(stuck)).status).toBe("sent");
    expect((await detail(fresh)).status).toBe("queued");
  });
});
