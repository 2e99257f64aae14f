/**
 * Receipts apply only where a provider could have caused them (issue 19 items 3 and 4): to a
 * message that went out through the webhook's own provider config, once a provider holds it.
 * Everything else stays on the timeline as an ignored receipt and changes nothing. And a webhook
 * of N events costs the same few D1 round trips as a webhook of one (issue 18 §1).
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ProviderEvent } from "../src/channels/types";
import { hubSignature } from "../src/channels/whatsapp/meta-graph";
import { judgeReceipt, planReceipts, type StoredMessage } from "../src/pipeline/receipts";
import { impliedSteps } from "../src/pipeline/status";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts, TWILIO, twilioAccepts } from "./helpers";
import { mailgunBody } from "./providers/email-signing";
import { PHONE_NUMBER_ID, waStatuses } from "./providers/meta-vonage-payloads";
import { sendgridSigner } from "./signing";

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
});

const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
const ignoredReceipts = (d: { events: any[] }) => d.events.filter((e) => e.kind === "ignored_receipt");
async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await exports.default.fetch(url, { method: "POST", body, headers });
  return { status: res.status, json: (await res.json()) as any };
}
async function send(body: Record<string, unknown>, deliver = true) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status, res.text).toBe(201);
  if (deliver) await runDelivery(queue.drain().map((m) => m.body));
  return res.json.id as string;
}
const email = { channel: "email", recipientContact: "ann@example.com", subject: "Hi", content: "Hello" };
const sms = { channel: "sms", recipientContact: "+14155550123", content: "Your code is 123456" };

const MAILGUN_KEY = "mailgun-webhook-signing-key-0123456789";
const MAILGUN = {
  channel: "email",
  provider: "mailgun",
  priority: 1,
  credentials: { apiKey: "key-test-0123", webhookSigningKey: MAILGUN_KEY },
  settings: { domain: "mg.acme.test", from: "billing@acme.test" },
};
const APP_SECRET = "0123456789abcdef0123456789abcdef";
const WHATSAPP = {
  channel: "whatsapp",
  provider: "meta_whatsapp",
  priority: 1,
  credentials: { accessToken: "EAAG-test", appSecret: APP_SECRET },
  settings: { phoneNumberId: PHONE_NUMBER_ID, baseUrl: "https://graph.mock", webhookVerifyToken: "verify-42" },
};

async function sendgrid(priority = 1) {
  const signer = await sendgridSigner();
  // A rate no test here reaches: a send held back as `queued` is one no receipt may touch.
  const settings = { from: "billing@acme.test", baseUrl: "https://sendgrid.mock", webhookVerificationKey: signer.verificationKey, rateLimit: { perSecond: 1000, burst: 1000 } };
  const provider = await addProvider(key, SENDGRID({ priority, settings }));
  // Each post is a new signed request (SendGrid's replay key is its timestamp and body), as a
  // provider's later webhook carrying the same event again would be.
  // Each a second earlier than the last, from one fixed start, so no two posts share a timestamp.
  const start = Math.floor(Date.now() / 1000);
  let posts = 0;
  const postEvents = async (events: unknown[]) => {
    const body = JSON.stringify(events);
    return post(provider.webhookUrl, body, await signer.headers(body, start - posts++));
  };
  return { provider, postEvents };
}
const sgEvent = (id: string, event: string, sgMessageId = "sg-1.filter0001") => ({
  email: "ann@example.com",
  timestamp: Math.floor(Date.now() / 1000),
  event,
  sg_event_id: `${event}-${id}-${Math.random()}`,
  sg_message_id: sgMessageId,
  herald_communication_id: id,
});

describe("a receipt through another provider config", () => {
  it("from Mailgun, for an SMS sent through Twilio, is ignored and kept on the timeline", async () => {
    await addProvider(key, TWILIO());
    const mailgun = await addProvider(key, MAILGUN);
    mockProviders({ "https://twilio.mock": twilioAccepts("SMabc") });
    const id = await send(sms);

    const failed = { event: "failed", severity: "permanent", id: "mg-evt-1", timestamp: Date.now() / 1000, recipient: "x@example.com", "user-variables": { herald_communication_id: id } };
    const res = await post(mailgun.webhookUrl, await mailgunBody(MAILGUN_KEY, failed), { "content-type": "application/json" });
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", provider: "twilio", failedAt: null, errorMessage: null });
    expect(res).toEqual({ status: 200, json: { received: 1, applied: 0, ignored: 1, moved: 0 } });
    expect(ignoredReceipts(d)).toEqual([
      expect.objectContaining({ provider: "mailgun", providerConfigId: mailgun.id, status: null, error: "receipt ignored: this message did not go out through this provider config", detail: expect.objectContaining({ event: "failed", status: "failed", reason: "other_provider" }) }),
    ]);
    expect(d.events.filter((e: { kind: string }) => e.kind === "provider_event")).toEqual([]);
    // Nor did the failure put the recipient on the suppression list.
    expect((await call("GET", "/api/suppressions", { key })).json.results).toEqual([]);
  });

  it("from Meta WhatsApp, for an email, is ignored", async () => {
    await sendgrid();
    const whatsapp = await addProvider(key, WHATSAPP);
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const id = await send(email);

    const body = JSON.stringify(waStatuses([{ id: "wamid.X1", status: "delivered", callback: id }]));
    const res = await post(whatsapp.webhookUrl, body, { "content-type": "application/json", "x-hub-signature-256": await hubSignature(APP_SECRET, body) });
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", provider: "sendgrid", deliveredAt: null });
    expect(res).toEqual({ status: 200, json: { received: 1, applied: 0, ignored: 1, moved: 0 } });
    expect(ignoredReceipts(d)).toEqual([expect.objectContaining({ provider: "meta_whatsapp", detail: expect.objectContaining({ reason: "other_provider", status: "delivered" }) })]);
  });

  it("from another config of the same provider and channel, is ignored too", async () => {
    const first = await sendgrid(1);
    const second = await sendgrid(2);
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const id = await send(email);
    expect((await detail(id)).providerConfigId).toBe(first.provider.id);
    expect((await second.postEvents([sgEvent(id, "delivered")])).json).toEqual({ received: 1, applied: 0, ignored: 1, moved: 0 });
    expect((await detail(id)).status).toBe("sent");
    expect((await first.postEvents([sgEvent(id, "delivered")])).json).toEqual({ received: 1, applied: 1, ignored: 0, moved: 1 });
  });
});

describe("a receipt for a message no provider holds", () => {
  it("does not move a send scheduled an hour ahead, which can still be cancelled", async () => {
    const { postEvents } = await sendgrid();
    const id = await send({ ...email, scheduledAt: new Date(Date.now() + 3600_000).toISOString() }, false);

    const res = await postEvents([sgEvent(id, "delivered"), sgEvent(id, "open")]);
    const d = await detail(id);
    expect(d).toMatchObject({ status: "scheduled", deliveredAt: null, openedAt: null });
    expect(res).toEqual({ status: 200, json: { received: 2, applied: 0, ignored: 2, moved: 0 } });
    expect(ignoredReceipts(d).map((e: { detail: { reason: string; event: string } }) => [e.detail.event, e.detail.reason])).toEqual([
      ["delivered", "not_sent"],
      ["open", "not_sent"],
    ]);
    expect(ignoredReceipts(d)[0].error).toBe("receipt ignored: no provider has been handed this message yet");

    const cancel = await call("POST", `/api/communications/${id}/cancel`, { key });
    expect(cancel.status, cancel.text).toBe(200);
    expect((await detail(id)).status).toBe("cancelled");
  });

  it("applies the same event once the message is sent: an ignored receipt does not use up its dedupe key", async () => {
    const { postEvents } = await sendgrid();
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const res = await call("POST", "/api/communications/send", { key, body: email });
    const id = res.json.id as string;
    const delivered = sgEvent(id, "delivered");
    expect((await postEvents([delivered])).json).toMatchObject({ ignored: 1 });
    await runDelivery(queue.drain().map((m) => m.body));
    expect((await postEvents([delivered])).json).toMatchObject({ applied: 1, moved: 1 });
    const d = await detail(id);
    expect(d.status).toBe("delivered");
    expect(d.events.filter((e: { kind: string }) => e.kind === "provider_event")).toHaveLength(1);
  });
});

/**
 * Every D1 round trip of a request: a batch() is one, and so is each statement run on its own
 * (all/first/run/raw, which drizzle's single queries use too).
 */
function countRoundTrips() {
  const statement = Object.getPrototypeOf(env.DB.prepare("SELECT 1"));
  const spies = [vi.spyOn(env.DB, "batch"), ...(["all", "first", "run", "raw"] as const).map((m) => vi.spyOn(statement, m))];
  return {
    count: () => spies.reduce((n, s) => n + s.mock.calls.length, 0),
    batches: () => spies[0]!.mock.calls.length,
    reset: () => spies.forEach((s) => s.mockClear()),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

describe("a SendGrid batch", () => {
  it("of 100 events for 100 messages costs the same D1 round trips as one event", async () => {
    const { postEvents } = await sendgrid();
    let n = 0;
    mockProviders({ "https://sendgrid.mock": () => sendgridAccepts(`sg-${++n}`)() });
    const accepted = await call("POST", "/api/communications/batch", { key, body: { items: Array.from({ length: 101 }, (_, i) => ({ ...email, recipientContact: `u${i}@example.com` })) } });
    expect(accepted.status, accepted.text).toBe(201);
    const bodies = queue.drain().map((m) => m.body);
    for (let i = 0; i < bodies.length; i += 10) await runDelivery(bodies.slice(i, i + 10));
    const ids: string[] = accepted.json.results.map((r: { id: string }) => r.id);
    const [single, ...hundred] = ids;

    const trips = countRoundTrips();
    const one = await postEvents([sgEvent(single!, "delivered")]);
    expect(one.json).toEqual({ received: 1, applied: 1, ignored: 0, moved: 1 });
    const forOne = trips.count();
    trips.reset();
    // Half by Herald's id, half by SendGrid's own message id only (sg_message_id starts with X-Message-Id).
    const events = await Promise.all(
      hundred.map(async (id, i) => {
        if (i % 2 === 0) return sgEvent(id, "delivered");
        const sgId = (await detail(id)).providerMessageId as string;
        const { herald_communication_id: _, ...anonymous } = sgEvent(id, "delivered", `${sgId}.filter0001`);
        return anonymous;
      }),
    );
    trips.reset();
    const res = await postEvents(events);
    const forHundred = trips.count();
    const batches = trips.batches();
    trips.restore();

    expect(res).toEqual({ status: 200, json: { received: 100, applied: 100, ignored: 0, moved: 100 } });
    for (const id of hundred.slice(0, 5).concat(hundred.slice(-5))) expect((await detail(id)).status).toBe("delivered");
    const stats = await call("GET", "/api/communications/stats", { key });
    expect(stats.json.byStatus.delivered).toBe(101);
    // The whole request: the config lookup, one read of all the messages, one write batch, one stats batch.
    expect(forHundred).toBe(forOne);
    expect(forHundred).toBe(4);
    expect(batches).toBe(2);
  }, 60_000);

  it("does not overwrite a change made between its read and its write; it reads again and decides again", async () => {
    const { postEvents } = await sendgrid();
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const failedMeanwhile = await send(email);
    const deliveredMeanwhile = await send({ ...email, recipientContact: "bob@example.com" });

    const batch = env.DB.batch.bind(env.DB);
    vi.spyOn(env.DB, "batch").mockImplementationOnce(async (statements) => {
      // Another writer gets in after the webhook read both messages as `sent`.
      await env.DB.prepare("UPDATE communication SET status = 'failed' WHERE id = ?").bind(failedMeanwhile).run();
      await env.DB.prepare("UPDATE communication SET status = 'delivered' WHERE id = ?").bind(deliveredMeanwhile).run();
      return batch(statements);
    });
    const res = await postEvents([sgEvent(failedMeanwhile, "delivered"), sgEvent(deliveredMeanwhile, "delivered"), sgEvent(deliveredMeanwhile, "open")]);
    expect(res.json).toEqual({ received: 3, applied: 3, ignored: 0, moved: 1 });
    expect((await detail(failedMeanwhile)).status).toBe("failed");
    // Read again as `delivered`: the open still applies, the delivered step is no longer needed.
    expect(await detail(deliveredMeanwhile)).toMatchObject({ status: "opened", openedAt: expect.any(String) });
  });
});

describe("judgeReceipt", () => {
  const message = (over: Partial<StoredMessage> = {}): StoredMessage => ({
    id: "c1",
    tenantId: "t1",
    channel: "email",
    type: "invoice",
    createdAt: new Date(0),
    status: "sent",
    providerConfigId: "cfg-a",
    providerMessageId: "p1",
    handedTo: ["cfg-a"],
    ...over,
  });
  const a = { configId: "cfg-a", channel: "email" } as const;
  const b = { configId: "cfg-b", channel: "email" } as const;
  const own = { configId: null, channel: null } as const;

  it.each([
    ["sent through this config", message(), a, { apply: true }],
    ["sent through another config", message(), b, { apply: false, reason: "other_provider" }],
    ["on another channel", message({ channel: "sms" }), a, { apply: false, reason: "other_provider" }],
    ["handed to this config before a silent failover", message({ providerConfigId: "cfg-a", handedTo: ["cfg-b", "cfg-a"] }), b, { apply: true }],
    ["mid-send, before the provider's answer is recorded", message({ status: "sending", providerConfigId: null, handedTo: [] }), b, { apply: true }],
    ["mid-send, on another channel", message({ status: "sending", providerConfigId: null, handedTo: [], channel: "sms" }), b, { apply: false, reason: "other_provider" }],
    ["scheduled", message({ status: "scheduled", providerConfigId: null, handedTo: [] }), a, { apply: false, reason: "not_sent" }],
    ["queued for a retry", message({ status: "queued" }), a, { apply: false, reason: "not_sent" }],
    ["failed by Herald before any provider took it", message({ status: "failed", providerConfigId: null, handedTo: [] }), a, { apply: false, reason: "other_provider" }],
    ["opened, seen by Herald's own pixel", message({ status: "delivered" }), own, { apply: true }],
    ["queued for a retry, seen by Herald's own pixel (the timed-out attempt went out)", message({ status: "queued" }), own, { apply: true }],
  ] as const)("a message %s", (_name, m, source, verdict) => {
    expect(judgeReceipt(m, source)).toEqual(verdict);
  });

  it("plans one walk per message, each step from where the previous left it", () => {
    const event = (status: ProviderEvent["status"], over: Partial<ProviderEvent> = {}): ProviderEvent => ({
      communicationId: "c1",
      providerMessageId: null,
      status,
      name: String(status),
      occurredAt: new Date(1),
      dedupeKey: String(status),
      detail: {},
      ...over,
    });
    const plan = planReceipts(a, [event("clicked"), event("delivered"), event(null), event("opened", { communicationId: null, providerMessageId: "p1" }), event("delivered", { communicationId: "nope" })], [message()]);
    // A click on a sent message implies its delivery and its open (status.ts impliedSteps); the
    // later `delivered` and `opened` are then no moves.
    expect(plan.moves).toEqual([expect.objectContaining({ from: "sent", steps: ["delivered", "opened", "clicked"].map((status) => expect.objectContaining({ status })) })]);
    expect(plan.entries.map((e) => (e.verdict.apply ? "apply" : e.verdict.reason))).toEqual(["apply", "apply", "apply", "apply", "unknown_message"]);
  });
});

describe("impliedSteps", () => {
  it("gives an open or click on a sent message the steps before it, and nothing to a message not yet sent", () => {
    expect(impliedSteps("sent", "opened")).toEqual(["delivered"]);
    expect(impliedSteps("sent", "clicked")).toEqual(["delivered", "opened"]);
    expect(impliedSteps("delivered", "clicked")).toEqual(["opened"]);
    expect(impliedSteps("opened", "clicked")).toEqual([]);
    expect(impliedSteps("sending", "opened")).toEqual([]);
    expect(impliedSteps("queued", "clicked")).toEqual([]);
    expect(impliedSteps("sent", "delivered")).toEqual([]);
  });
});
