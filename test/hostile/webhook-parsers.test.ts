/**
 * Every provider's webhook parser, fed payloads of the provider's own shape whose values are
 * hostile (Object.prototype names, control characters, lone surrogates, absurd numbers): it
 * never throws on a payload its schema admits, and what it returns is what D1 can bind — a
 * known status or null, strings, valid dates, plain detail values. A function or an object where
 * a string belongs (a status looked up on a plain object) or an invalid date is a 500 later.
 * Then the same payloads, correctly signed, through the webhook route: a 200 or a 400, never a 500.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { addProvider, createTenant } from "../helpers";
import { basicAuth, mailgunBody, newWhsec, svixHeaders } from "../providers/email-signing";
import { vonageSignature, vonageParams } from "../../src/channels/sms/vonage-webhook";
import { hubSignature } from "../../src/channels/whatsapp/meta-graph";
import { PROVIDERS } from "../../src/channels/registry";
import { SUPPRESSION_REASONS, type InboundWebhook, type ProviderEvent } from "../../src/channels/types";
import { INBOUND } from "../../src/channels/inbound/registry";
import type { InboundMessage } from "../../src/conversations/inbound";
import { TRACKED } from "../../src/pipeline/status";
import { nastyNumber, nastyString, runs } from "./fuzz";

/** Names every plain object answers to. */
const INHERITED = Object.getOwnPropertyNames(Object.prototype);
const hostile = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...INHERITED) }, { weight: 3, arbitrary: nastyString.map((s) => s.slice(0, 200)) });
const present = hostile.map((s) => s || "x");
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const known = (...values: string[]) => fc.oneof(fc.constantFrom(...values), hostile);
const UUID = "0194f7a2-5b1c-7d3e-8f90-123456789abc";
const ourId = fc.oneof(fc.constant(UUID), hostile);
const strip = <T extends Record<string, unknown>>(o: T) => JSON.parse(JSON.stringify(o)) as T;

const request = (rawBody: string, headers: Record<string, string> = {}, url = "https://herald.test/webhooks/p/cfg"): InboundWebhook => ({
  url,
  rawBody,
  headers: new Headers(headers),
  now: new Date(),
});

/** A payload of each provider's shape, as the request the parser reads. */
const payloads: Record<string, fc.Arbitrary<InboundWebhook>> = {
  sendgrid: fc
    .array(
      fc.record({
        event: known("processed", "delivered", "open", "click", "bounce", "dropped", "spamreport", "unsubscribe"),
        timestamp: fc.integer({ min: 0, max: 4_102_444_800 }),
        sg_event_id: opt(hostile),
        sg_message_id: opt(hostile),
        herald_communication_id: opt(ourId),
        reason: opt(hostile),
        type: opt(known("blocked", "bounce")),
        url: opt(hostile),
      }),
      { maxLength: 4 },
    )
    .map((events) => request(JSON.stringify(events.map(strip)))),
  mailgun: fc
    .record({
      event: known("accepted", "delivered", "opened", "clicked", "rejected", "failed", "complained", "unsubscribed"),
      id: present,
      timestamp: fc.oneof(fc.double({ min: 0, max: 4e9, noNaN: true }), nastyNumber),
      severity: opt(known("permanent", "temporary")),
      reason: opt(known("bounce", "suppress-bounce", "suppress-complaint", "suppress-unsubscribe")),
      url: opt(hostile),
      "user-variables": opt(fc.dictionary(known("herald_communication_id"), ourId, { maxKeys: 3 })),
      "delivery-status": opt(fc.record({ code: opt(fc.integer()), message: opt(hostile), description: opt(hostile) })),
    })
    .map((e) => request(JSON.stringify({ signature: { timestamp: "1", token: "t", signature: "s" }, "event-data": strip(e) }))),
  postmark: fc
    .record({
      RecordType: known("Delivery", "Open", "Click", "Bounce", "SpamComplaint", "SubscriptionChange"),
      MessageID: present,
      Metadata: opt(fc.dictionary(known("herald_communication_id"), ourId, { maxKeys: 3 })),
      ID: opt(fc.oneof(fc.integer(), hostile)),
      Type: opt(known("HardBounce", "SoftBounce", "AutoResponder")),
      Inactive: opt(fc.boolean()),
      Description: opt(hostile),
      OriginalLink: opt(hostile),
      SuppressSending: opt(fc.boolean()),
      SuppressionReason: opt(known("HardBounce", "SpamComplaint", "ManualSuppression")),
      DeliveredAt: opt(fc.oneof(hostile, fc.date({ noInvalidDate: true }).map((d) => d.toISOString()))),
    })
    .map((r) => request(JSON.stringify(strip(r)))),
  resend: fc
    .record({
      type: known("email.sent", "email.delivered", "email.opened", "email.clicked", "email.bounced", "email.complained", "email.failed", "email.suppressed"),
      created_at: fc.oneof(hostile, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
      data: fc.record({
        email_id: opt(hostile),
        tags: opt(fc.dictionary(known("herald_communication_id"), ourId, { maxKeys: 3 })),
        bounce: opt(fc.record({ type: known("Permanent", "Transient"), subType: opt(hostile), message: opt(hostile) })),
        click: opt(fc.record({ link: opt(hostile) })),
        failed: opt(fc.record({ reason: opt(hostile) })),
        suppressed: opt(fc.record({ reason: opt(known("previous_bounce", "previous_complaint")), type: opt(hostile) })),
      }),
    })
    .map((e) => request(JSON.stringify(strip(e)), { "svix-id": "msg_1" })),
  ses: fc
    .record({
      eventType: opt(known("Send", "Delivery", "Open", "Click", "Bounce", "Complaint", "Reject", "Rendering Failure")),
      notificationType: opt(hostile),
      mail: fc.record({ messageId: present, tags: opt(fc.dictionary(known("herald_communication_id"), fc.array(ourId, { maxLength: 2 }), { maxKeys: 3 })) }),
      bounce: opt(fc.record({ bounceType: known("Permanent", "Transient"), bounceSubType: opt(hostile), timestamp: opt(hostile) })),
      complaint: opt(fc.record({ complaintFeedbackType: opt(hostile), timestamp: opt(hostile) })),
      click: opt(fc.record({ link: opt(hostile) })),
      reject: opt(fc.record({ reason: opt(hostile) })),
    })
    .map((e) =>
      request(
        JSON.stringify({
          Type: "Notification",
          MessageId: "m-1",
          TopicArn: "arn:aws:sns:us-east-1:1:t",
          Message: JSON.stringify(strip(e)),
          Timestamp: new Date().toISOString(),
          SignatureVersion: "2",
          Signature: "x",
          SigningCertURL: "x",
        }),
      ),
    ),
  twilio: fc
    .record({ MessageSid: present, MessageStatus: known("sent", "delivered", "read", "undelivered", "failed"), ErrorCode: opt(known("0", "21610", "30005")) })
    .chain((form) => hostile.map((c) => request(new URLSearchParams(strip(form) as Record<string, string>).toString(), {}, `https://herald.test/webhooks/twilio/cfg?c=${encodeURIComponent(c.toWellFormed())}`))),
  vonage: fc
    .record({ messageId: present, status: known("accepted", "delivered", "expired", "failed", "rejected"), "err-code": opt(known("0", "3", "4", "9")), "client-ref": opt(ourId), price: opt(hostile) })
    .chain((r) =>
      fc.boolean().map((asJson) =>
        asJson ? request(JSON.stringify(strip(r)), { "content-type": "application/json" }) : request(new URLSearchParams(strip(r) as Record<string, string>).toString(), { "content-type": "application/x-www-form-urlencoded" }),
      ),
    ),
  meta_whatsapp: fc
    .record({
      id: present,
      status: known("sent", "delivered", "read", "played", "failed"),
      timestamp: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800 }).map(String), fc.stringMatching(/^\d{1,30}$/)),
      biz_opaque_callback_data: opt(ourId),
      errors: opt(fc.array(fc.record({ code: fc.integer(), title: opt(hostile) }), { maxLength: 2 })),
      pricing: opt(fc.record({ category: opt(hostile) })),
    })
    .map((s) =>
      request(JSON.stringify({ object: "whatsapp_business_account", entry: [{ changes: [{ field: "messages", value: { metadata: { display_phone_number: "15550783881" }, statuses: [strip(s)] } }] }] })),
    ),
  meta_messenger: fc
    .record({ mids: fc.array(present, { maxLength: 3 }), watermark: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), nastyNumber) })
    .map((delivery) => request(JSON.stringify({ object: "page", entry: [{ messaging: [{ delivery }] }] }))),
};

const isPlain = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);

function expectBindable(e: ProviderEvent) {
  expect(e.status === null || (TRACKED as readonly string[]).includes(e.status), `status ${String(e.status)}`).toBe(true);
  expect(typeof e.name).toBe("string");
  expect(typeof e.dedupeKey).toBe("string");
  expect(e.communicationId === null || typeof e.communicationId === "string").toBe(true);
  expect(e.providerMessageId === null || typeof e.providerMessageId === "string").toBe(true);
  expect(Number.isFinite(e.occurredAt.getTime()), "occurredAt").toBe(true);
  expect(e.error === undefined || typeof e.error === "string").toBe(true);
  if (e.suppress) {
    expect(SUPPRESSION_REASONS).toContain(e.suppress.reason);
    expect(e.suppress.detail === undefined || typeof e.suppress.detail === "string").toBe(true);
  }
  for (const [k, v] of Object.entries(e.detail)) expect(isPlain(v), `detail.${k}`).toBe(true);
}

const expectMessage = (m: InboundMessage) =>
  expect([m.from, m.to, m.providerMessageId, m.text ?? ""].every((v) => typeof v === "string") && !Number.isNaN(Date.parse(m.receivedAt))).toBe(true);
const inbound = (provider: string, req: InboundWebhook) =>
  INBOUND[provider]!.parse({ ...req, bytes: new TextEncoder().encode(req.rawBody) }, { id: "cfg", tenantId: "t", channel: "sms" });

/** Zod says which payloads a schema refuses; the route answers those 400. Anything else thrown is a bug. */
const refusedBySchema = (error: unknown) => (error as Error)?.name === "ZodError";

describe("every provider's webhook parser, with hostile field values", () => {
  it("covers every provider that takes webhooks", () => {
    const withWebhooks = Object.entries(PROVIDERS).flatMap(([name, p]) => (p.webhook ? [name] : []));
    expect(Object.keys(payloads).sort()).toEqual(withWebhooks.sort());
  });

  it.each(Object.keys(payloads))("%s: returns bindable events or refuses the payload by its schema, never anything else", async (provider) => {
    const handler = PROVIDERS[provider as keyof typeof PROVIDERS]!.webhook!;
    await fc.assert(
      fc.asyncProperty(payloads[provider]!, async (req) => {
        let events: ProviderEvent[];
        try {
          events = handler.parse(req);
        } catch (error) {
          expect(refusedBySchema(error), String(error)).toBe(true);
          return;
        }
        events.forEach(expectBindable);
        // Meta posts customers' messages to the same URL.
        if (provider.startsWith("meta_")) for (const reply of await inbound(provider, req)) expectMessage(reply);
      }),
      runs(150, 0x9a5 + provider.length),
    );
  });

  it.each(["twilio", "vonage"])("%s: inbound messages with hostile values are strings or refused by the schema", async (provider) => {
    const form = fc.record({ MessageSid: hostile, messageId: hostile, From: hostile, To: hostile, Body: hostile, msisdn: fc.oneof(fc.constant("14155550123"), hostile), to: hostile, text: hostile, keyword: hostile });
    await fc.assert(
      fc.asyncProperty(form, async (f) => {
        try {
          for (const m of await inbound(provider, request(new URLSearchParams(f).toString()))) expectMessage(m);
        } catch (error) {
          expect(refusedBySchema(error), String(error)).toBe(true);
        }
      }),
      runs(100, 0x9b0),
    );
  });

  it("slack: Events API callbacks with hostile values are messages of strings, dropped, or refused by the schema", async () => {
    const ts = fc.oneof(fc.constant("1700000000.000100"), hostile);
    const event = fc.record({
      type: known("message", "app_mention", "reaction_added"),
      subtype: opt(known("file_share", "thread_broadcast", "bot_message", "message_changed")),
      channel: fc.oneof(fc.constant("C0123456789"), hostile),
      channel_type: opt(known("im", "channel", "mpim")),
      user: opt(fc.oneof(fc.constant("U0AAAAAAA1"), hostile)),
      bot_id: opt(hostile),
      text: opt(hostile),
      ts,
      thread_ts: opt(ts),
      files: opt(fc.array(fc.record({ id: present, name: opt(hostile), mimetype: opt(hostile), size: opt(nastyNumber), url_private_download: opt(fc.oneof(fc.constant("https://files.slack.com/f"), hostile)) }), { maxLength: 2 })),
    });
    const body = fc.record({ type: known("event_callback", "url_verification", "app_rate_limited"), challenge: opt(hostile), event: event.map(strip) });
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        try {
          for (const m of await inbound("slack", request(JSON.stringify(b)))) {
            expectMessage(m);
            for (const item of m.media ?? []) expect([item.contentType, item.url].every((v) => typeof v === "string") && Number.isFinite(item.size)).toBe(true);
          }
        } catch (error) {
          expect(refusedBySchema(error), String(error)).toBe(true);
        }
      }),
      runs(150, 0x51ac),
    );
  });
});

describe("the same payloads, signed, through POST /webhooks/:provider/:configId", () => {
  const MAILGUN_KEY = "mailgun-webhook-signing-key-0123456789";
  const VONAGE_SECRET = "vonage-signature-secret-0123456789";
  const APP_SECRET = "meta-app-secret-0123456789";
  const WHSEC = newWhsec();
  const url: Record<string, string> = {};

  beforeAll(async () => {
    const { key } = await createTenant();
    const configs = {
      mailgun: { channel: "email", credentials: { apiKey: "key-0123", webhookSigningKey: MAILGUN_KEY }, settings: { domain: "mg.acme.test", from: "a@acme.test" } },
      postmark: { channel: "email", credentials: { serverToken: "server-token-0123", webhookUsername: "hook", webhookPassword: "hook-password-0123" }, settings: { from: "a@acme.test" } },
      resend: { channel: "email", credentials: { apiKey: "re_0123", webhookSecret: WHSEC }, settings: { from: "a@acme.test" } },
      vonage: { channel: "sms", credentials: { apiKey: "abcd1234", apiSecret: "s", signatureSecret: VONAGE_SECRET }, settings: { from: "+14155550100", signatureMethod: "sha256" } },
      meta_whatsapp: { channel: "whatsapp", credentials: { accessToken: "t", appSecret: APP_SECRET }, settings: { phoneNumberId: "106540352242922" } },
      meta_messenger: { channel: "messenger", credentials: { accessToken: "t", appSecret: APP_SECRET }, settings: { pageId: "1096348207084150" } },
    };
    for (const [provider, c] of Object.entries(configs)) url[provider] = (await addProvider(key, { provider, priority: 1, ...c })).webhookUrl;
  });

  /** The payload as its provider would sign it (a fresh nonce each time: these are not replays). */
  const signers: Record<string, (req: InboundWebhook) => Promise<{ body: string; headers: Record<string, string> }>> = {
    mailgun: async (req) => ({ body: await mailgunBody(MAILGUN_KEY, JSON.parse(req.rawBody)["event-data"]), headers: { "content-type": "application/json" } }),
    postmark: async (req) => ({ body: req.rawBody, headers: { "content-type": "application/json", ...basicAuth("hook", "hook-password-0123") } }),
    resend: async (req) => ({ body: req.rawBody, headers: await svixHeaders(WHSEC, req.rawBody) }),
    vonage: async (req) => {
      const params = { ...vonageParams(req.rawBody, req.headers), timestamp: String(Math.floor(Date.now() / 1000)), nonce: crypto.randomUUID() };
      const sig = await vonageSignature(params, VONAGE_SECRET, "sha256");
      return { body: new URLSearchParams({ ...params, sig }).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } };
    },
    meta_whatsapp: async (req) => ({ body: req.rawBody, headers: { "content-type": "application/json", "x-hub-signature-256": await hubSignature(APP_SECRET, req.rawBody) } }),
    meta_messenger: async (req) => ({ body: req.rawBody, headers: { "content-type": "application/json", "x-hub-signature-256": await hubSignature(APP_SECRET, req.rawBody) } }),
  };

  it.each(Object.keys(signers))("%s: a 200 or a 400", async (provider) => {
    await fc.assert(
      fc.asyncProperty(payloads[provider]!, async (req) => {
        const { body, headers } = await signers[provider]!({ ...req, rawBody: req.rawBody.toWellFormed() });
        const res = await exports.default.fetch(url[provider]!, { method: "POST", body, headers });
        const text = await res.text();
        expect([200, 400], text).toContain(res.status);
      }),
      runs(30, 0xa11 + provider.length),
    );
  }, 60_000);
});
