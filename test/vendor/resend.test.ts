/**
 * Cross-checks the Resend adapter against Resend's own artefacts, in Node:
 * - webhook signatures against `svix` (the library Resend's docs tell receivers to verify with):
 *   what svix signs, `resendWebhook.verify` accepts, and the reverse for the test signer the
 *   workerd tests use (test/providers/email-signing.ts);
 * - the JSON we send against the `POST /emails` request schema of Resend's OpenAPI document, and
 *   the webhook payloads our parser reads against the spec's `email.*` event schemas
 *   (test/fixtures/specs/resend_emails.json, extracted from resend/resend-openapi).
 */
import * as nodeCrypto from "node:crypto";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { Webhook } from "svix";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { resend, resendRequestBody } from "../../src/channels/email/resend";
import { resendWebhook } from "../../src/channels/email/resend-webhook";
import type { InboundWebhook, OutboundMessage } from "../../src/channels/types";
import spec from "../fixtures/specs/resend_emails.json";
import { svixHeaders } from "../providers/email-signing";
import { captureFetch } from "./capture";

const { timingSafeEqual } = nodeCrypto as { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean };
// `constantTimeEqual` calls the Workers extension `crypto.subtle.timingSafeEqual`; Node's stands in.
beforeAll(() => {
  Object.defineProperty(crypto.subtle, "timingSafeEqual", { value: timingSafeEqual, configurable: true });
});
afterAll(() => {
  Reflect.deleteProperty(crypto.subtle, "timingSafeEqual");
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const inbound = (rawBody: string, headers: Record<string, string>, now = new Date()): InboundWebhook => ({
  url: "https://herald.test/webhooks/resend/cfg",
  rawBody,
  headers: new Headers(headers),
  now,
});
const event = JSON.stringify({
  type: "email.delivered",
  created_at: "2026-11-23T14:00:00.000Z",
  data: { email_id: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", created_at: "2026-11-23T13:59:58.000Z", from: "Acme <billing@acme.test>", to: ["ada@example.com"], subject: "Hi", tags: { herald_communication_id: "c-1" } },
});

describe("Resend (Svix) webhook signatures: ours vs svix", () => {
  const wh = new Webhook(SECRET);

  it("accepts what svix signs, and svix accepts what our test signer signs", async () => {
    const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
    const at = new Date();
    const signature = wh.sign(id, at, event);
    const headers = { "svix-id": id, "svix-timestamp": String(Math.floor(at.getTime() / 1000)), "svix-signature": signature };
    expect(await resendWebhook.verify(inbound(event, headers), { webhookSecret: SECRET }, {})).toEqual({ ok: true });

    const ours = await svixHeaders(SECRET, event);
    expect(() => wh.verify(event, ours)).not.toThrow();
  });

  it("both reject a tampered body, another secret and a stale timestamp", async () => {
    const id = "msg_tampered";
    const at = new Date();
    const headers = { "svix-id": id, "svix-timestamp": String(Math.floor(at.getTime() / 1000)), "svix-signature": wh.sign(id, at, event) };
    const tampered = event.replace("delivered", "bounced");
    expect(() => wh.verify(tampered, headers)).toThrow();
    expect(await resendWebhook.verify(inbound(tampered, headers), { webhookSecret: SECRET }, {})).toEqual({ ok: false, reason: "bad signature" });

    const other = new Webhook("whsec_" + btoa("another secret, 24 bytes"));
    const forged = { ...headers, "svix-signature": other.sign(id, at, event) };
    expect(() => wh.verify(event, forged)).toThrow();
    expect(await resendWebhook.verify(inbound(event, forged), { webhookSecret: SECRET }, {})).toEqual({ ok: false, reason: "bad signature" });

    const old = new Date(Date.now() - 10 * 60_000);
    const stale = { "svix-id": id, "svix-timestamp": String(Math.floor(old.getTime() / 1000)), "svix-signature": wh.sign(id, old, event) };
    expect(() => wh.verify(event, stale)).toThrow();
    expect(await resendWebhook.verify(inbound(event, stale), { webhookSecret: SECRET }, {})).toMatchObject({ ok: false });
  });
});

// ---- Request body and webhook payloads vs Resend's OpenAPI document ----

type Settings = Parameters<typeof resendRequestBody>[1];
const settings = resend.settings.parse({ from: "notifications@herald.test", fromName: "Herald", replyTo: "support@herald.test" }) as Settings;
const base: OutboundMessage = {
  communicationId: "01a20899-b1ff-72df-aaa1-3aeb52a3aa02",
  tenantId: "01a20899-b1ff-72df-aaa1-000000000001",
  channel: "email",
  to: "ada@example.com",
  recipientName: "Ada Lovelace",
  subject: "Your sign-in code",
  content: "Your code is 123456.",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/resend/cfg",
};
const cases: { name: string; message: OutboundMessage }[] = [
  { name: "plain text", message: base },
  { name: "HTML with a text alternative", message: { ...base, content: "<p>Hello <strong>Ada</strong></p>" } },
  { name: "headers and an attachment", message: { ...base, headers: { "List-Unsubscribe": "<https://herald.test/u/t>" }, attachments: [{ filename: "a.pdf", content: "JVBERi0=", mimeType: "application/pdf" }] } },
  { name: "no subject", message: { ...base, subject: null } },
];

// Two patches, both from the spec's own words: the request schema does not forbid unknown
// members (a misspelt `replyTo` would pass), and tag names and values are limited to
// "ASCII letters, numbers, underscores, or dashes … no more than 256 characters" in prose only.
// `format: binary` (attachment content) has no JSON Schema meaning; it is declared as a no-op.
function sendSchema() {
  const s = structuredClone(spec.send.schema) as any;
  s.additionalProperties = false;
  const tag = { type: "string", pattern: "^[A-Za-z0-9_-]{1,256}$" };
  s.properties.tags.items = { ...s.properties.tags.items, required: ["name", "value"], properties: { name: tag, value: tag } };
  return s;
}
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addFormat("binary", true);
const validateSend = ajv.compile(sendSchema());
const errorsOf = (validate: ReturnType<typeof ajv.compile>, body: unknown) => (validate(body) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));

describe("Resend request body vs POST /emails in the OpenAPI document", () => {
  it.each(cases)("validates the body we send: $name", async ({ message }) => {
    const capture = captureFetch(() => Response.json({ id: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c" }));
    const outcome = await resend.create(resend.credentials.parse({ apiKey: "re_test" }), settings).send(message);
    expect(outcome).toMatchObject({ ok: true, providerMessageId: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c" });
    const req = capture.take();
    expect(`${req.url.origin}${req.url.pathname}`).toBe(`${spec.servers[0]!.url}${spec.send.path}`);
    expect(req.headers.get("idempotency-key")!.length).toBeLessThanOrEqual(spec.send.headers["Idempotency-Key"].maxLength);
    expect(errorsOf(validateSend, JSON.parse(req.body))).toEqual([]);
  });

  it("bites: a missing subject, an unknown member, a tag value with a dot", () => {
    const body = resendRequestBody(base, settings);
    const { subject: _s, ...withoutSubject } = body;
    expect(errorsOf(validateSend, withoutSubject)).toContain(" must have required property 'subject'");
    expect(errorsOf(validateSend, { ...body, replyTo: "x@herald.test" })).toContain(" must NOT have additional properties");
    expect(errorsOf(validateSend, { ...body, tags: [{ name: "v", value: "1.2" }] })).toContain('/tags/0/value must match pattern "^[A-Za-z0-9_-]{1,256}$"');
  });
});

describe("Resend webhook payloads vs the spec's email.* event schemas", () => {
  const common = { email_id: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", created_at: "2026-11-23T13:59:58.000Z", from: "Acme <billing@acme.test>", to: ["ada@example.com"], subject: "Hi", tags: { herald_communication_id: "c-1" } };
  const payloads: [keyof typeof spec.webhooks, Record<string, unknown>, string | null][] = [
    ["email.sent", {}, "sent"],
    ["email.delivered", {}, "delivered"],
    ["email.delivery_delayed", {}, null],
    ["email.opened", {}, "opened"],
    ["email.clicked", { click: { ipAddress: "192.0.2.1", link: "https://acme.test/pay", timestamp: "2026-11-23T14:00:00.000Z", userAgent: "Mozilla/5.0" } }, "clicked"],
    ["email.bounced", { bounce: { diagnosticCode: ["smtp; 550 5.1.1 user unknown"], message: "No such user", subType: "General", type: "Permanent" } }, "bounced"],
    ["email.complained", {}, null],
    ["email.failed", { failed: { reason: "reached_daily_quota" } }, "failed"],
    ["email.suppressed", { suppressed: { diagnosticCode: [], message: "Previously bounced", reason: "previous_bounce", type: "OnAccountSuppressionList" } }, "failed"],
  ];

  it.each(payloads)("%s: valid per the spec, and parsed to status %s with our id", (type, extra, status) => {
    const payload = { type, created_at: "2026-11-23T14:00:00.000Z", data: { ...common, ...extra } };
    expect(errorsOf(ajv.compile(spec.webhooks[type]), payload)).toEqual([]);
    const [parsed] = resendWebhook.parse(inbound(JSON.stringify(payload), { "svix-id": "msg_1" }));
    expect(parsed).toMatchObject({ status, communicationId: "c-1", providerMessageId: common.email_id, dedupeKey: "resend:msg_1" });
  });
});
