/**
 * The inbound provider routes end to end: a request in each vendor's shape, signed as the vendor
 * signs it, lands in the tenant's conversations (rows written by receiveInbound); forged,
 * replayed and cross-tenant requests are refused and change nothing.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, TWILIO, TWILIO_SID, twilioAccepts } from "../helpers";
import { twilioHeaders } from "../signing";
import { hubSignature } from "../../src/channels/whatsapp/meta-graph";
import { vonageSignature } from "../../src/channels/sms/vonage-webhook";
import { mailgunSignature } from "../../src/channels/email/mailgun-webhook";
import { basicAuth } from "../providers/email-signing";
import { metaMessengerMessages, metaWhatsappMessages, twilioWhatsappForm } from "./payloads";

let queue: ReturnType<typeof captureQueue>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  vi.spyOn(env.EVENT_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
  vi.spyOn(env.AUTOMATION_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
});

const inboundUrl = (provider: string, id: string, secret?: string) => `https://herald.test/webhooks/inbound/${provider}/${id}${secret ? `/${secret}` : ""}`;

async function post(url: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await exports.default.fetch(url, { method: "POST", body, headers });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

/** What receiveInbound stored for a tenant. */
async function stored(tenantId: string) {
  const { results } = await env.DB.prepare("SELECT provider_config_id, provider_message_id, text, button, media, in_reply_to FROM conversation_message WHERE tenant_id = ?1 AND direction = 'in' ORDER BY provider_message_id")
    .bind(tenantId)
    .all<{ provider_config_id: string; provider_message_id: string; text: string | null; button: string | null; media: string | null; in_reply_to: string | null }>();
  return results;
}

describe("Twilio (SMS, WhatsApp)", () => {
  it("a signed WhatsApp reply with media and a button is stored; the answer is empty TwiML", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TWILIO({ channel: "whatsapp", settings: { from: "whatsapp:+14155238886", baseUrl: "https://twilio.mock" } }));
    const url = inboundUrl("twilio", p.id);
    const form = twilioWhatsappForm();
    const res = await post(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form));
    expect(res.status, res.text).toBe(200);
    expect(res.type).toMatch(/text\/xml/);
    expect(res.text).toContain("<Response></Response>");
    const rows = await stored(tenantId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider_config_id: p.id, provider_message_id: "MM800f449d0399ed014aae2bcc0cc2f2ec", text: "Pay now" });
    expect(JSON.parse(rows[0]!.button!)).toMatchObject({ payload: "pay_invoice_INV-1", text: "Pay now" });
    expect(JSON.parse(rows[0]!.media!)).toHaveLength(2);

    // Twilio's retry of the same message is answered as before and stored once.
    expect((await post(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form))).status).toBe(200);
    expect(await stored(tenantId)).toHaveLength(1);
  });

  it("forged and unsigned requests are refused and store nothing", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TWILIO());
    const url = inboundUrl("twilio", p.id);
    const form = new URLSearchParams({ MessageSid: "SM1", From: "+14155550199", To: "+14155550100", Body: "hi" });
    expect((await post(url, form.toString(), { "content-type": "application/x-www-form-urlencoded" })).status).toBe(401);
    expect((await post(url, form.toString(), await twilioHeaders("not-the-token", url, form))).status).toBe(403);
    // Signed for another URL (another config): the URL is part of what Twilio signs.
    expect((await post(url, form.toString(), await twilioHeaders("twilio-auth-token", inboundUrl("twilio", "other"), form))).status).toBe(403);
    expect(await stored(tenantId)).toEqual([]);
  });

  it("a request signed for tenant A's config cannot land in tenant B", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const pa = await addProvider(a.key, TWILIO({ credentials: { accountSid: TWILIO_SID, authToken: "token-of-a" } }));
    const pb = await addProvider(b.key, TWILIO({ credentials: { accountSid: TWILIO_SID, authToken: "token-of-b" } }));
    const form = new URLSearchParams({ MessageSid: "SMcross", From: "+14155550199", To: "+14155550100", Body: "hi" });
    // A's token, B's URL (signed as if for it): B's secret does not verify it.
    const urlB = inboundUrl("twilio", pb.id);
    expect((await post(urlB, form.toString(), await twilioHeaders("token-of-a", urlB, form))).status).toBe(403);
    // A secret segment is SendGrid Parse's only; A's URL named with another provider's path is not an endpoint.
    expect((await post(`${urlB}/extra`, form.toString(), await twilioHeaders("token-of-b", `${urlB}/extra`, form))).status).toBe(404);
    expect((await post(inboundUrl("vonage", pa.id), form.toString(), await twilioHeaders("token-of-a", inboundUrl("vonage", pa.id), form))).status).toBe(404);
    const urlA = inboundUrl("twilio", pa.id);
    expect((await post(urlA, form.toString(), await twilioHeaders("token-of-a", urlA, form))).status).toBe(200);
    expect(await stored(a.tenantId)).toHaveLength(1);
    expect(await stored(b.tenantId)).toEqual([]);
  });

  it("the first inbound URL (/webhooks/twilio/<id>/inbound) is the same route", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TWILIO());
    const url = `${p.webhookUrl}/inbound`;
    const form = new URLSearchParams({ MessageSid: "SMold", From: "+14155550199", To: "+14155550100", Body: "Can I pay next week?" });
    expect((await post(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form))).status).toBe(200);
    expect(await stored(tenantId)).toMatchObject([{ provider_message_id: "SMold", text: "Can I pay next week?" }]);
  });
});

describe("end to end through the public API", () => {
  it("an SMS reply to an invoice, posted signed to the inbound URL, appears in its conversation linked to the invoice", async () => {
    const { key } = await createTenant();
    const p = await addProvider(key, TWILIO({ priority: 0 }));
    mockProviders({ "https://twilio.mock": twilioAccepts() });
    const sent = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550199", content: "Invoice INV-1: $10 due Friday" } });
    expect(sent.status, sent.text).toBe(201);
    await runDelivery(queue.drain().map((m) => m.body));

    const url = inboundUrl("twilio", p.id);
    const form = new URLSearchParams({ MessageSid: "SMreply1", AccountSid: TWILIO_SID, From: "+14155550199", To: "+14155550100", Body: "Can I pay next week?", NumMedia: "0" });
    expect((await post(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form))).status).toBe(200);

    const list = await call("GET", "/api/conversations?channel=sms", { key });
    expect(list.status, list.text).toBe(200);
    expect(list.json.results).toMatchObject([{ channel: "sms", contact: "+14155550199", unreadCount: 1 }]);
    const messages = await call("GET", `/api/conversations/${list.json.results[0].id}/messages`, { key });
    expect(messages.json.results.find((m: { direction: string }) => m.direction === "inbound")).toMatchObject({ text: "Can I pay next week?", inReplyToCommunicationId: sent.json.id, providerMessageId: "SMreply1" });
  });
});

describe("Vonage", () => {
  const SECRET = "vonage-signature-secret-0123456789";
  const sign = async (fields: Record<string, string>, secret = SECRET, nonce = crypto.randomUUID()) => {
    const params: Record<string, string> = { ...fields, timestamp: String(Math.floor(Date.now() / 1000)), nonce };
    return new URLSearchParams({ ...params, sig: await vonageSignature(params, secret, "sha256") }).toString();
  };
  const form = { "content-type": "application/x-www-form-urlencoded" };

  it("a signed inbound SMS is stored; forged, replayed and cross-tenant requests are refused", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const vonage = (secret: string) => ({
      channel: "sms",
      provider: "vonage",
      priority: 1,
      credentials: { apiKey: "abcd1234", apiSecret: "vonage-api-secret", signatureSecret: secret },
      settings: { from: "+14155550100", signatureMethod: "sha256" },
    });
    const pa = await addProvider(a.key, vonage(SECRET));
    const pb = await addProvider(b.key, vonage("another-tenants-secret-0123456789"));
    const fields = { msisdn: "14155550199", to: "14155550100", messageId: "0A0000001234567B", text: "Can I pay next week?", type: "text" };
    const body = await sign(fields);
    expect((await post(inboundUrl("vonage", pa.id), body, form)).status).toBe(200);
    expect(await stored(a.tenantId)).toMatchObject([{ provider_message_id: "0A0000001234567B", text: "Can I pay next week?" }]);

    expect((await post(inboundUrl("vonage", pa.id), body, form)).status).toBe(409);
    expect((await post(inboundUrl("vonage", pa.id), await sign({ ...fields, messageId: "X" }, "forged-secret"), form)).status).toBe(403);
    expect((await post(inboundUrl("vonage", pb.id), await sign({ ...fields, messageId: "Y" }), form)).status).toBe(403);
    expect(await stored(a.tenantId)).toHaveLength(1);
    expect(await stored(b.tenantId)).toEqual([]);
  });
});

describe("Meta WhatsApp and Messenger (the app's one callback URL)", () => {
  const APP_SECRET = "0123456789abcdef0123456789abcdef";
  const meta = (provider: string, channel: string) => ({
    channel,
    provider,
    priority: 1,
    credentials: { accessToken: "EAAG-test", appSecret: APP_SECRET },
    settings: provider === "meta_whatsapp" ? { phoneNumberId: "106540352242922", baseUrl: "https://graph.mock" } : { pageId: "106781412345678", baseUrl: "https://graph.mock" },
  });
  const signed = async (body: string, secret = APP_SECRET) => ({ "content-type": "application/json", "x-hub-signature-256": await hubSignature(secret, body) });

  it("WhatsApp messages posted to the delivery webhook URL are stored, with their context", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, meta("meta_whatsapp", "whatsapp"));
    const body = JSON.stringify(metaWhatsappMessages());
    const res = await post(p.webhookUrl, body, await signed(body));
    expect(res.status, res.text).toBe(200);
    const rows = await stored(tenantId);
    expect(rows.map((r) => r.provider_message_id)).toEqual(["wamid.audio", "wamid.btn", "wamid.doc", "wamid.image", "wamid.list", "wamid.text", "wamid.tpl"]);
    expect(rows.find((r) => r.provider_message_id === "wamid.text")).toMatchObject({ text: "Can I pay next week?", in_reply_to: "wamid.ours" });
    // The same at /webhooks/inbound/meta_whatsapp/<id>: Meta's redelivery is stored once.
    expect((await post(inboundUrl("meta_whatsapp", p.id), body, await signed(body))).status).toBe(200);
    expect(await stored(tenantId)).toHaveLength(7);
    expect((await post(inboundUrl("meta_whatsapp", p.id), body, await signed(body, "forged-app-secret"))).status).toBe(403);
  });

  it("Messenger messages are stored; echoes are not", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, meta("meta_messenger", "messenger"));
    const body = JSON.stringify(metaMessengerMessages());
    expect((await post(p.webhookUrl, body, await signed(body))).status).toBe(200);
    expect((await stored(tenantId)).map((r) => r.provider_message_id)).toEqual(["m_img", "m_pb", "m_qr", "m_text"]);
    expect((await post(inboundUrl("meta_messenger", p.id), body, { "content-type": "application/json" })).status).toBe(401);
  });
});

describe("email providers", () => {
  it("SendGrid Inbound Parse: the URL's secret is the proof", async () => {
    const { key, tenantId } = await createTenant();
    const secret = "parse-secret-0123456789abcdef";
    const p = await addProvider(key, { channel: "email", provider: "sendgrid", priority: 1, credentials: { apiKey: "SG.x", inboundParseSecret: secret }, settings: { from: "billing@acme.test" } });
    const parse = () => {
      const f = new FormData();
      f.set("headers", "Message-ID: <sg-1@mail.example.com>\r\n");
      f.set("from", "Ann <ann@example.com>");
      f.set("to", "billing@parse.acme.test");
      f.set("subject", "Re: Invoice");
      f.set("text", "Can I pay next week?");
      f.set("envelope", JSON.stringify({ to: ["billing@parse.acme.test"], from: "ann@example.com" }));
      return f;
    };
    expect((await post(inboundUrl("sendgrid", p.id, secret), parse())).status).toBe(200);
    expect(await stored(tenantId)).toMatchObject([{ provider_message_id: "sg-1@mail.example.com", text: "Can I pay next week?" }]);
    expect((await post(inboundUrl("sendgrid", p.id, "wrong-secret-0123456789abcdef"), parse())).status).toBe(403);
    expect((await post(inboundUrl("sendgrid", p.id), parse())).status).toBe(401);
  });

  it("Mailgun routes: signed, token used once (406 on a replay), cross-tenant refused", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const mailgun = (signingKey: string) => ({ channel: "email", provider: "mailgun", priority: 1, credentials: { apiKey: "key-1", webhookSigningKey: signingKey }, settings: { domain: "mg.acme.test", from: "billing@acme.test" } });
    const pa = await addProvider(a.key, mailgun("signing-key-of-a-0123456789"));
    const pb = await addProvider(b.key, mailgun("signing-key-of-b-0123456789"));
    const routePost = async (signingKey: string, messageId: string, token = crypto.randomUUID().replace(/-/g, "")) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const f = new FormData();
      for (const [k, v] of Object.entries({ recipient: "billing@mg.acme.test", sender: "ann@example.com", from: "Ann <ann@example.com>", subject: "Re: Invoice", "body-plain": "Paid", "stripped-text": "Paid", "Message-Id": `<${messageId}>`, timestamp, token, signature: await mailgunSignature(signingKey, timestamp, token) })) f.set(k, v);
      return f;
    };
    const first = await routePost("signing-key-of-a-0123456789", "mg-1@mail.example.com", "token-used-once-0123456789");
    expect((await post(inboundUrl("mailgun", pa.id), first)).status).toBe(200);
    const replay = await routePost("signing-key-of-a-0123456789", "mg-2@mail.example.com", "token-used-once-0123456789");
    expect((await post(inboundUrl("mailgun", pa.id), replay)).status).toBe(406);
    expect((await post(inboundUrl("mailgun", pa.id), await routePost("forged", "mg-3@mail.example.com"))).status).toBe(403);
    expect((await post(inboundUrl("mailgun", pb.id), await routePost("signing-key-of-a-0123456789", "mg-4@mail.example.com"))).status).toBe(403);
    expect((await stored(a.tenantId)).map((r) => r.provider_message_id)).toEqual(["mg-1@mail.example.com"]);
    expect(await stored(b.tenantId)).toEqual([]);
  });

  it("Postmark inbound: Basic credentials of the webhook URL", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, { channel: "email", provider: "postmark", priority: 1, credentials: { serverToken: "pm-token", webhookUsername: "herald", webhookPassword: "pm-webhook-password" }, settings: { from: "billing@acme.test" } });
    const body = JSON.stringify({ MessageID: "pm-1", FromFull: { Email: "ann@example.com" }, ToFull: [{ Email: "billing@inbound.acme.test" }], Subject: "Re", TextBody: "Thanks", Headers: [{ Name: "Message-ID", Value: "<pm-reply@mail.example.com>" }] });
    expect((await post(inboundUrl("postmark", p.id), body, { "content-type": "application/json", ...basicAuth("herald", "pm-webhook-password") })).status).toBe(200);
    expect(await stored(tenantId)).toMatchObject([{ provider_message_id: "pm-reply@mail.example.com", text: "Thanks" }]);
    expect((await post(inboundUrl("postmark", p.id), body, { "content-type": "application/json", ...basicAuth("herald", "guess") })).status).toBe(403);
    expect((await post(inboundUrl("postmark", p.id), body, { "content-type": "application/json" })).status).toBe(401);
  });
});
