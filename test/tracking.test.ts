import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  addProvider,
  BASE,
  call,
  captureQueue,
  createTenant,
  mockProviders,
  runDelivery,
  SENDGRID,
  sendgridAccepts,
  TWILIO,
  twilioAccepts,
} from "./helpers";
import { sendgridSigner, twilioHeaders } from "./signing";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
});

const detail = async (id: string, k = key) => (await call("GET", `/api/communications/${id}`, { key: k })).json;
const email = { channel: "email", recipientContact: "ann@example.com", subject: "Hi", content: "Hello" };

async function sendAndDeliver(body: Record<string, unknown>, k = key) {
  const res = await call("POST", "/api/communications/send", { key: k, body });
  expect(res.status, res.text).toBe(201);
  await runDelivery(queue.drain().map((m) => m.body));
  return res.json.id as string;
}

async function postWebhook(url: string, body: string, headers: Record<string, string>) {
  const res = await exports.default.fetch(url, { method: "POST", body, headers });
  return { status: res.status, json: (await res.json()) as any };
}

const sgEvent = (id: string, event: string, extra: Record<string, unknown> = {}) => ({
  email: "ann@example.com",
  timestamp: Math.floor(Date.now() / 1000),
  event,
  sg_event_id: `${event}-${id}-${Math.random()}`,
  sg_message_id: "sg-1.filter0001",
  herald_communication_id: id,
  ...extra,
});

describe("SendGrid event webhook", () => {
  async function setup() {
    const signer = await sendgridSigner();
    const provider = await addProvider(key, SENDGRID({ settings: { from: "billing@acme.test", baseUrl: "https://sendgrid.mock", webhookVerificationKey: signer.verificationKey } }));
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    return { signer, url: provider.webhookUrl };
  }

  it("moves a message through delivered, opened and clicked from a signed batch", async () => {
    const { signer, url } = await setup();
    const id = await sendAndDeliver(email);
    const body = JSON.stringify([sgEvent(id, "processed"), sgEvent(id, "delivered"), sgEvent(id, "open"), sgEvent(id, "click", { url: "https://acme.test/pay" })]) + "\r\n";
    const res = await postWebhook(url, body, await signer.headers(body));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: 4, applied: 4, ignored: 0, moved: 3 });
    const d = await detail(id);
    expect(d.status).toBe("clicked");
    for (const at of ["deliveredAt", "openedAt", "clickedAt"]) expect(d[at], at).toBeTruthy();
    const providerEvents = d.events.filter((e: { kind: string }) => e.kind === "provider_event");
    expect(providerEvents.map((e: { detail: { event: string } }) => e.detail.event)).toEqual(["processed", "delivered", "open", "click"]);
    expect(JSON.stringify(d.events)).not.toContain("ann@example.com");
  });

  it("matches by the X-Message-Id prefix when our id is missing", async () => {
    const { signer, url } = await setup();
    const id = await sendAndDeliver(email);
    const { herald_communication_id, ...anonymous } = sgEvent(id, "delivered");
    const body = JSON.stringify([anonymous]);
    await postWebhook(url, body, await signer.headers(body));
    expect((await detail(id)).status).toBe("delivered");
  });

  it("never lets a late delivered overwrite clicked, and ignores duplicates", async () => {
    const { signer, url } = await setup();
    const id = await sendAndDeliver(email);
    const click = sgEvent(id, "click");
    const first = JSON.stringify([click, sgEvent(id, "delivered")]);
    await postWebhook(url, first, await signer.headers(first));
    const again = JSON.stringify([click]);
    const replay = await postWebhook(url, again, await signer.headers(again));
    expect(replay.json.moved).toBe(0);
    const d = await detail(id);
    expect(d.status).toBe("clicked");
    expect(d.events.filter((e: { kind: string }) => e.kind === "provider_event")).toHaveLength(2);
  });

  it("rejects unsigned, forged and replayed requests without changing anything", async () => {
    const { signer, url } = await setup();
    const id = await sendAndDeliver(email);
    const body = JSON.stringify([sgEvent(id, "delivered")]);
    const unsigned = await postWebhook(url, body, { "content-type": "application/json" });
    expect(unsigned.status).toBe(401);
    const stranger = await sendgridSigner();
    expect((await postWebhook(url, body, await stranger.headers(body))).status).toBe(403);
    const tampered = body.replace("delivered", "open");
    expect((await postWebhook(url, tampered, await signer.headers(body))).status).toBe(403);
    const old = Math.floor(Date.now() / 1000) - 3600;
    const replayed = await postWebhook(url, body, await signer.headers(body, old));
    expect(replayed.status).toBe(403);
    expect(replayed.json.detail).toMatch(/replay window/);
    expect((await detail(id)).status).toBe("sent");
  });

  it("refuses webhooks for a config with no verification key", async () => {
    const provider = await addProvider(key, SENDGRID());
    const res = await postWebhook(provider.webhookUrl, "[]", { "x-twilio-email-event-webhook-signature": "x", "x-twilio-email-event-webhook-timestamp": "1" });
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/webhookVerificationKey/);
  });

  it("applies a receipt that arrives while the send is still being recorded", async () => {
    const signer = await sendgridSigner();
    const provider = await addProvider(key, SENDGRID({ settings: { from: "billing@acme.test", baseUrl: "https://sendgrid.mock", webhookVerificationKey: signer.verificationKey } }));
    const res = await call("POST", "/api/communications/send", { key, body: email });
    const id = res.json.id as string;
    mockProviders({
      "https://sendgrid.mock": async () => {
        // The provider reports delivery before its own 202 reaches us.
        const body = JSON.stringify([sgEvent(id, "delivered")]);
        const hook = await postWebhook(provider.webhookUrl, body, await signer.headers(body));
        expect(hook.json.moved).toBe(1);
        return sendgridAccepts("sg-early")();
      },
    });
    await runDelivery(queue.drain().map((m) => m.body));
    expect(await detail(id)).toMatchObject({ status: "delivered", providerMessageId: "sg-early" });
  });

  it("suppresses a hard-bounced address; the next send to it is suppressed without a provider call", async () => {
    const { signer, url } = await setup();
    const id = await sendAndDeliver(email);
    const body = JSON.stringify([sgEvent(id, "bounce", { type: "bounce", reason: "550 5.1.1 user unknown" })]);
    await postWebhook(url, body, await signer.headers(body));
    expect(await detail(id)).toMatchObject({ status: "bounced", errorMessage: "bounced: 550 5.1.1 user unknown" });

    const list = await call("GET", "/api/suppressions?channel=email", { key });
    expect(list.json.results).toEqual([expect.objectContaining({ contact: "ann@example.com", reason: "bounce", source: "sendgrid", communicationId: id })]);

    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const next = await sendAndDeliver(email);
    expect(net.requests).toHaveLength(0);
    expect(await detail(next)).toMatchObject({ status: "suppressed", errorMessage: expect.stringMatching(/^suppressed: bounce/) });

    expect((await call("DELETE", `/api/suppressions/email/${encodeURIComponent("ann@example.com")}`, { key })).status).toBe(204);
    const after = await sendAndDeliver(email);
    expect((await detail(after)).status).toBe("sent");
  });

  it("processes a batch of 500 events in a bounded number of D1 batches", async () => {
    const { signer, url } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await sendAndDeliver({ ...email, recipientContact: `u${i}@example.com` }));
    const events = Array.from({ length: 500 }, (_, i) => sgEvent(ids[i % 5]!, i % 2 ? "open" : "delivered"));
    const body = JSON.stringify(events);
    const batches = vi.spyOn(env.DB, "batch");
    const res = await postWebhook(url, body, await signer.headers(body));
    expect(res.json.received).toBe(500);
    // 250 deliveries × 3 statements, 250 opens × 4 (the delivery an open implies first), 300 a batch.
    expect(batches.mock.calls.length).toBeLessThanOrEqual(6);
    for (const id of ids) expect((await detail(id)).status).toBe("opened");
  });

  it("answers 400 for a body that is not SendGrid's format", async () => {
    const { signer, url } = await setup();
    const body = JSON.stringify({ not: "an array" });
    expect((await postWebhook(url, body, await signer.headers(body))).status).toBe(400);
  });
});

describe("Twilio status callbacks", () => {
  it("moves SMS to delivered, and a STOP reply to failed with an opt-out suppression", async () => {
    const provider = await addProvider(key, TWILIO());
    mockProviders({ "https://twilio.mock": twilioAccepts("SMabc") });
    const id = await sendAndDeliver({ channel: "sms", recipientContact: "+14155550123", content: "hi" });
    const url = `${provider.webhookUrl}?c=${id}`;

    const delivered = new URLSearchParams({ MessageSid: "SMabc", MessageStatus: "delivered", AccountSid: TWILIO().credentials.accountSid });
    const ok = await postWebhook(url, delivered.toString(), await twilioHeaders("twilio-auth-token", url, delivered));
    expect(ok.status).toBe(200);
    expect((await detail(id)).status).toBe("delivered");

    const forged = await postWebhook(url, delivered.toString(), await twilioHeaders("wrong-token", url, delivered));
    expect(forged.status).toBe(403);

    const id2 = await sendAndDeliver({ channel: "sms", recipientContact: "+14155550199", content: "hi" });
    const url2 = `${provider.webhookUrl}?c=${id2}`;
    const stop = new URLSearchParams({ MessageSid: "SMdef", MessageStatus: "undelivered", ErrorCode: "21610" });
    await postWebhook(url2, stop.toString(), await twilioHeaders("twilio-auth-token", url2, stop));
    expect(await detail(id2)).toMatchObject({ status: "failed", errorMessage: "Twilio reported undelivered (error 21610)" });
    const s = await call("GET", `/api/suppressions?channel=sms&contact=${encodeURIComponent("+14155550199")}`, { key });
    expect(s.json.results[0]).toMatchObject({ reason: "opt_out", detail: "recipient replied STOP" });
  });

  it("cannot touch another tenant's communications through its own webhook URL", async () => {
    await addProvider(key, { channel: "sms", provider: "sandbox" });
    const victim = await sendAndDeliver({ channel: "sms", recipientContact: "+14155550123", content: "hi" });
    const other = await createTenant("Mallory");
    const theirs = await addProvider(other.key, TWILIO({ credentials: { accountSid: TWILIO().credentials.accountSid, authToken: "mallory-token" } }));
    const url = `${theirs.webhookUrl}?c=${victim}`;
    const form = new URLSearchParams({ MessageSid: `sandbox-${victim}`, MessageStatus: "failed" });
    const res = await postWebhook(url, form.toString(), await twilioHeaders("mallory-token", url, form));
    expect(res.json.moved).toBe(0);
    expect((await detail(victim)).status).toBe("delivered");
  });

  it("404s unknown webhook endpoints", async () => {
    expect((await call("POST", "/webhooks/twilio/nope", { body: "x" })).status).toBe(404);
    const sandbox = await addProvider(key, { channel: "sms", provider: "sandbox" });
    expect((await call("POST", `/webhooks/sandbox/${sandbox.id}`, { body: "x" })).status).toBe(404);
    expect((await call("POST", `/webhooks/twilio/${sandbox.id}`, { body: "x" })).status).toBe(404);
  });
});

describe("suppressions API", () => {
  it("adds, lists, validates and lifts entries, per tenant", async () => {
    const add = await call("POST", "/api/suppressions", { key, body: { channel: "sms", contact: "+1 415 555 0123", reason: "manual", detail: "asked by phone" } });
    expect(add.status).toBe(201);
    expect(add.json).toMatchObject({ contact: "+14155550123", reason: "manual", source: "api" });
    const bad = await call("POST", "/api/suppressions", { key, body: { channel: "sms", contact: "nope" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("contact");

    const other = await createTenant("Other");
    expect((await call("GET", "/api/suppressions", { key: other.key })).json.results).toEqual([]);
    expect((await call("DELETE", `/api/suppressions/sms/${encodeURIComponent("+14155550123")}`, { key: other.key })).status).toBe(404);
    expect((await call("DELETE", `/api/suppressions/sms/${encodeURIComponent("+14155550123")}`, { key })).status).toBe(204);
  });
});

describe("GET /api/communications/stats", () => {
  it("reports counts and rates from the rollups", async () => {
    await addProvider(key, { channel: "sms", provider: "sandbox" });
    await addProvider(key, { channel: "email", provider: "sandbox", settings: { outcome: "sent" } });
    for (let i = 0; i < 3; i++) await sendAndDeliver({ channel: "sms", type: "otp", recipientContact: `+1415555000${i}`, content: "c" });
    for (let i = 0; i < 2; i++) await sendAndDeliver({ ...email, type: "invoice", recipientContact: `u${i}@example.com` });
    await call("POST", "/api/suppressions", { key, body: { channel: "sms", contact: "+14155550009" } });
    await sendAndDeliver({ channel: "sms", type: "otp", recipientContact: "+14155550009", content: "c" });
    const cancelled = await call("POST", "/api/communications/send", { key, body: { ...email, scheduledAt: new Date(Date.now() + 3600_000).toISOString() } });
    await call("POST", `/api/communications/${cancelled.json.id}/cancel`, { key });

    const res = await call("GET", "/api/communications/stats", { key });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      totalAccepted: 7,
      totalSent: 5,
      byChannel: { sms: 4, email: 3 },
      byType: { otp: 4, invoice: 2, general_notification: 1 },
      byStatus: { sent: 5, delivered: 3, suppressed: 1, cancelled: 1, failed: 0 },
      deliveryRate: 0.6,
      failureRate: 0,
    });
    expect(typeof res.json.averageSendLatencyMs).toBe("number");

    const past = await call("GET", "/api/communications/stats?startDate=2020-01-01&endDate=2020-01-31", { key });
    expect(past.json.totalAccepted).toBe(0);
    const reversed = await call("GET", "/api/communications/stats?startDate=2020-02-01&endDate=2020-01-01", { key });
    expect(reversed.status).toBe(422);
    const other = await createTenant("Other");
    expect((await call("GET", "/api/communications/stats", { key: other.key })).json.totalAccepted).toBe(0);
  });
});
