/**
 * Captured provider webhooks replayed at Herald (issue 19): a signature whose scheme carries a
 * nonce, an id or a timestamp is accepted once, timestamps are read strictly, only ids the
 * signature covers name a communication, and hostile field values are answered without a 500.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, json, mockProviders, SENDGRID, sendgridAccepts } from "../helpers";
import { sendgridSigner } from "../signing";
import { vonageSignature } from "../../src/channels/sms/vonage-webhook";
import { mailgunBody, newWhsec, svixHeaders } from "./email-signing";
import { vonageInbound, vonageReceipt } from "./meta-vonage-payloads";
import { retention } from "../../src/automation/cron";
import { automationDeps } from "../../src/automation/deps";
import { detail, email, mockMultipart, postWebhook, providerEvents, sendAndDeliver, suppressions } from "./support";

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
});

describe("Mailgun: a captured token with another body", () => {
  const SIGNING_KEY = "mailgun-webhook-signing-key-0123456789";
  const MESSAGE_ID = "20261123140000.1.ABCDEF@mg.acme.test";

  it("is refused (409), and the other message and its address are untouched", async () => {
    const p = await addProvider(key, {
      channel: "email",
      provider: "mailgun",
      priority: 1,
      credentials: { apiKey: "key-test-0123", webhookSigningKey: SIGNING_KEY },
      settings: { domain: "mg.acme.test", from: "billing@acme.test" },
    });
    mockMultipart({ "https://api.mailgun.net": json(200, { id: `<${MESSAGE_ID}>`, message: "Queued." }) });
    const first = await sendAndDeliver(key, queue);
    const second = await sendAndDeliver(key, queue, { ...email, recipientContact: "bo@example.com" });

    const delivered = await mailgunBody(SIGNING_KEY, { event: "delivered", id: "ev-1", timestamp: Date.now() / 1000, "user-variables": { herald_communication_id: first } });
    expect((await postWebhook(p.webhookUrl, delivered, { "content-type": "application/json" })).status).toBe(200);

    // The same signature block, under an event the attacker wrote: Mailgun signs no body.
    const bounce = {
      event: "failed",
      severity: "permanent",
      reason: "bounce",
      id: "ev-forged",
      timestamp: Date.now() / 1000,
      "user-variables": { herald_communication_id: second },
      "delivery-status": { code: 550, message: "no such user" },
    };
    const replay = JSON.stringify({ signature: JSON.parse(delivered).signature, "event-data": bounce });
    const res = await postWebhook(p.webhookUrl, replay, { "content-type": "application/json" });
    expect(res.status).toBe(409);
    expect(res.json.detail).toMatch(/already used/);
    expect(await detail(key, second)).toMatchObject({ status: "sent" });
    expect(await suppressions(key)).toEqual([]);
    expect((await detail(key, first)).status).toBe("delivered");
  });
});

describe("SendGrid: timestamps", () => {
  async function setup() {
    const signer = await sendgridSigner();
    const p = await addProvider(key, SENDGRID({ settings: { from: "billing@acme.test", baseUrl: "https://sendgrid.mock", webhookVerificationKey: signer.verificationKey } }));
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const id = await sendAndDeliver(key, queue, email);
    const body = JSON.stringify([{ event: "delivered", timestamp: Math.floor(Date.now() / 1000), sg_event_id: `d-${id}`, sg_message_id: "sg-1.f", herald_communication_id: id }]);
    return { signer, url: p.webhookUrl, id, body };
  }

  it("a signed timestamp written in hex (or with an exponent) is refused", async () => {
    const { signer, url, id, body } = await setup();
    const now = Math.floor(Date.now() / 1000);
    // Number() reads both as the current time; the signature covers the string as written.
    for (const written of [`0x${now.toString(16)}`, `${now / 1000}e3`, ` ${now}`]) {
      const res = await postWebhook(url, body, await signer.headers(body, written as unknown as number));
      expect(res.status, written).toBe(403);
    }
    expect((await detail(key, id)).status).toBe("sent");
  });

  it("the same signed request twice is applied once; the second is a 409", async () => {
    const { signer, url, id, body } = await setup();
    const headers = await signer.headers(body);
    expect((await postWebhook(url, body, headers)).json).toMatchObject({ received: 1, applied: 1, moved: 1 });
    expect((await postWebhook(url, body, headers)).status).toBe(409);
    expect(providerEvents(await detail(key, id))).toEqual(["delivered"]);
  });
});

describe("Resend (Svix / Standard Webhooks): svix-id", () => {
  it("a replayed request is refused, and nothing is added to the timeline", async () => {
    const secret = newWhsec();
    const p = await addProvider(key, { channel: "email", provider: "resend", priority: 1, credentials: { apiKey: "re_test_0123", webhookSecret: secret }, settings: { from: "billing@acme.test" } });
    mockProviders({ "https://api.resend.com": json(200, { id: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c" }) });
    const id = await sendAndDeliver(key, queue);
    const body = JSON.stringify({ type: "email.opened", created_at: new Date().toISOString(), data: { email_id: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", tags: { herald_communication_id: id } } });
    const headers = await svixHeaders(secret, body, { id: "msg_2Kx" });
    expect((await postWebhook(p.webhookUrl, body, headers)).status).toBe(200);
    const replay = await postWebhook(p.webhookUrl, body, headers);
    expect(replay.status).toBe(409);
    expect(providerEvents(await detail(key, id))).toEqual(["email.opened"]);
  });
});

describe("Vonage", () => {
  const SECRET = "vonage-signature-secret-0123456789";
  async function setup() {
    const p = await addProvider(key, {
      channel: "sms",
      provider: "vonage",
      priority: 1,
      credentials: { apiKey: "abcd1234", apiSecret: "vonage-api-secret", signatureSecret: SECRET },
      settings: { from: "+14155550100", baseUrl: "https://vonage.mock", signatureMethod: "sha256" },
    });
    const accepts = (id: string) => Response.json({ "message-count": "1", messages: [{ to: "14155550123", "message-id": id, status: "0" }] });
    const send = async (messageId: string) => {
      mockProviders({ "https://vonage.mock": () => accepts(messageId) });
      return sendAndDeliver(key, queue, { channel: "sms", recipientContact: "+14155550123", content: "Your code is 123456" });
    };
    return { url: p.webhookUrl, configId: p.id, send };
  }
  const sign = async (fields: Record<string, string>, nonce = crypto.randomUUID()) => {
    const params: Record<string, string> = { ...fields, timestamp: String(Math.floor(Date.now() / 1000)), nonce };
    return { ...params, sig: await vonageSignature(params, SECRET, "sha256") };
  };
  const post = async (url: string, params: Record<string, string>) => {
    const res = await exports.default.fetch(url, { method: "POST", body: new URLSearchParams(params).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
    return { status: res.status, text: await res.text() };
  };

  it("a replayed nonce is refused", async () => {
    const { url, send } = await setup();
    const id = await send("0A00000000000001");
    const receipt = await sign(vonageReceipt("0A00000000000001", "accepted", { "client-ref": id }));
    expect((await post(url, receipt)).status).toBe(200);
    expect((await post(url, receipt)).status).toBe(409);
    expect(providerEvents(await detail(key, id))).toEqual(["accepted"]);
  });

  it("the callback URL's ?c= is not signed, so it names no communication", async () => {
    const { url, send } = await setup();
    const victim = await send("0A00000000000002");
    const sender = await send("0A00000000000003");
    // A signed receipt for one message, posted with another message's id in the URL.
    const res = await post(`${url}?c=${victim}`, await sign(vonageReceipt("0A00000000000003", "failed", { "err-code": "3" })));
    expect(res.status).toBe(200);
    expect((await detail(key, victim)).status).toBe("sent");
    expect((await detail(key, sender)).status).toBe("failed");
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])("a signed receipt with status %s is answered without a 500", async (status) => {
    const { url, send } = await setup();
    const id = await send("0A00000000000004");
    const res = await post(url, await sign(vonageReceipt("0A00000000000004", status, { "client-ref": id, "err-code": status })));
    expect(res.status, res.text).toBe(200);
    expect((await detail(key, id)).status).toBe("sent");
    expect((await call("GET", "/api/suppressions?channel=sms", { key })).json.results).toEqual([]);
  });

  it("a replayed inbound START is refused, so a later STOP stands", async () => {
    const { url } = await setup();
    const start = await sign(vonageInbound("14155550199", "START"));
    expect((await post(`${url}/inbound`, start)).status).toBe(200);
    expect((await post(`${url}/inbound`, await sign(vonageInbound("14155550199", "STOP")))).status).toBe(200);
    expect((await post(`${url}/inbound`, start)).status).toBe(409);
    const s = await call("GET", `/api/suppressions?channel=sms&contact=${encodeURIComponent("+14155550199")}`, { key });
    expect(s.json.results).toEqual([expect.objectContaining({ reason: "opt_out" })]);
  });

  it("a nonce refuses only until its window closes, and the cron deletes it after", async () => {
    const { url, configId, send } = await setup();
    const id = await send("0A00000000000005");
    const hold = (nonce: string, expiresAt: number) => env.DB.prepare("INSERT INTO webhook_nonce (scope, nonce, expires_at) VALUES (?1, ?2, ?3)").bind(configId, nonce, expiresAt).run();
    await hold("live-nonce", Date.now() + 60_000);
    await hold("expired-nonce", Date.now() - 1);
    expect((await post(url, await sign(vonageReceipt("0A00000000000005", "accepted", { "client-ref": id }), "live-nonce"))).status).toBe(409);
    expect((await post(url, await sign(vonageReceipt("0A00000000000005", "accepted", { "client-ref": id }), "expired-nonce"))).status).toBe(200);

    await hold("old-nonce", Date.now() - 1);
    expect((await retention(automationDeps(env), new Date(), 1000)).nonces).toBe(1);
    const left = await env.DB.prepare("SELECT nonce FROM webhook_nonce WHERE scope = ?1 ORDER BY nonce").bind(configId).all<{ nonce: string }>();
    expect(left.results.map((r) => r.nonce)).toEqual(["expired-nonce", "live-nonce"]);
  });
});
