/**
 * Cross-checks the Meta providers in Node:
 * - `X-Hub-Signature-256`: our WebCrypto HMAC equals node:crypto's HMAC-SHA256 over the raw body
 *   bytes (Meta publishes no verifier package), and `verifyHubSignature` accepts exactly those;
 * - the WhatsApp request bodies we send, the answers we parse and the webhook payloads the
 *   workerd tests post validate against the schemas of Meta's own OpenAPI document
 *   (test/fixtures/specs/meta_whatsapp_messages.json, provenance in that folder's README).
 */
import * as nodeCrypto from "node:crypto";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboundMessage } from "../../src/channels/types";
import { hubChallenge, hubSignature, verifyHubSignature } from "../../src/channels/whatsapp/meta-graph";
import { whatsappBodies } from "../../src/channels/whatsapp/meta-whatsapp";
import metaSpec from "../fixtures/specs/meta_whatsapp_messages.json";
import { messengerDelivery, waStatuses, waText } from "../providers/meta-vonage-payloads";

const { createHmac, timingSafeEqual } = nodeCrypto as {
  createHmac(alg: "sha256", key: string): { update(data: Uint8Array): { digest(enc: "hex"): string } };
  timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
};
// `constantTimeEqual` calls `crypto.subtle.timingSafeEqual`, a Workers extension Node lacks.
beforeAll(() => {
  Object.defineProperty(crypto.subtle, "timingSafeEqual", { value: timingSafeEqual, configurable: true });
});
afterAll(() => {
  Reflect.deleteProperty(crypto.subtle, "timingSafeEqual");
});

const APP_SECRET = "6f1c0e4a7b2d9e8f3a5c1b0d7e6f4a2c";
const nodeSignature = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(new TextEncoder().encode(body)).digest("hex")}`;
const request = (rawBody: string, signature?: string) => ({
  url: "https://herald.test/webhooks/meta_whatsapp/cfg",
  rawBody,
  headers: new Headers(signature === undefined ? {} : { "X-Hub-Signature-256": signature }),
  now: new Date(),
});

const bodies = [
  { name: "WhatsApp statuses", body: JSON.stringify(waStatuses([{ id: "wamid.A", status: "delivered" }, { id: "wamid.A", status: "read" }])) },
  { name: "a WhatsApp reply", body: JSON.stringify(waText("14155550123", "STOP")) },
  { name: "a Messenger delivery receipt", body: JSON.stringify(messengerDelivery("6543210987654321", ["m_1", "m_2"])) },
  // Meta escapes non-ASCII and slashes; the signature covers the escapes, not what they mean.
  { name: "Meta-style escapes", body: '{"object":"page","entry":[{"id":"1","messaging":[{"message":{"text":"Zo\\u00eb \\ud83d\\ude00 http:\\/\\/x"}}]}]}' },
  { name: "raw UTF-8 (accents, CJK, emoji)", body: '{"object":"page","entry":[{"messaging":[{"message":{"text":"Zoë 李 😀 café"}}]}]}' },
  { name: "pretty-printed with a trailing newline", body: JSON.stringify(waStatuses([{ id: "wamid.B", status: "sent" }]), null, 2) + "\n" },
];

describe("X-Hub-Signature-256: ours vs node:crypto", () => {
  it.each(bodies)("same signature, and ours accepts node's: $name", async ({ body }) => {
    const theirs = nodeSignature(APP_SECRET, body);
    expect(await hubSignature(APP_SECRET, body)).toBe(theirs);
    expect(await verifyHubSignature(request(body, theirs), APP_SECRET)).toEqual({ ok: true });
    expect(await verifyHubSignature(request(body, theirs.toUpperCase().replace("SHA256=", "sha256=")), APP_SECRET)).toEqual({ ok: true });
  });

  it.each(bodies)("rejects another secret, a tampered body and a re-serialised body: $name", async ({ body }) => {
    const signature = nodeSignature(APP_SECRET, body);
    expect(await verifyHubSignature(request(body, nodeSignature("another-app-secret", body)), APP_SECRET)).toEqual({ ok: false, reason: "bad signature" });
    const changed = [body.replace('"', "'"), `${body} `, JSON.stringify(JSON.parse(body))].filter((b) => b !== body);
    for (const b of changed) expect(await verifyHubSignature(request(b, signature), APP_SECRET)).toEqual({ ok: false, reason: "bad signature" });
  });

  it("distinguishes a missing header, a missing secret and malformed values", async () => {
    const { body } = bodies[0]!;
    expect(await verifyHubSignature(request(body), APP_SECRET)).toEqual({ ok: false, reason: "missing X-Hub-Signature-256" });
    expect(await verifyHubSignature(request(body, nodeSignature(APP_SECRET, body)), undefined)).toMatchObject({ ok: false, reason: expect.stringMatching(/no appSecret/) });
    for (const bad of ["", "sha256=", nodeSignature(APP_SECRET, body).slice(7), `sha1=${"0".repeat(40)}`]) {
      expect(await verifyHubSignature(request(body, bad), APP_SECRET)).toMatchObject({ ok: false });
    }
  });

  it("answers the GET handshake only for the configured token", () => {
    const q = (token: string, challenge = "1158201444", mode = "subscribe") => new URLSearchParams({ "hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge });
    expect(hubChallenge(q("tok-12345678"), "tok-12345678")).toBe("1158201444");
    expect(hubChallenge(q("tok-12345679"), "tok-12345678")).toBeUndefined();
    expect(hubChallenge(q("tok-12345678", "1", "unsubscribe"), "tok-12345678")).toBeUndefined();
    expect(hubChallenge(q("tok-12345678"), undefined)).toBeUndefined();
  });
});

// The spec's schemas, made usable by ajv with four patches for known defects (providers.md §10):
// 1. `Message` dispatches on `type` with a discriminator mapping ajv cannot use: we validate
//    against the schema for the type we send;
// 2. each type's schema is `allOf: [BaseMessageProperties, {additionalProperties: false, …}]`,
//    which rejects the base's own fields (`messaging_product`, `to`…): flattened into one object
//    schema, still closed to unknown fields;
// 3. `biz_opaque_callback_data`, documented for messages, is only declared on calls: added to the
//    base with the spec's own definition (string, at most 512 characters);
// 4. `LanguageObject` requires `policy`, which the API no longer needs: not required.
function metaSchemas() {
  const schemas = structuredClone(metaSpec.components.schemas) as Record<string, any>;
  const baseMessage = schemas.BaseMessageProperties;
  baseMessage.properties.biz_opaque_callback_data = { type: "string", maxLength: 512 };
  for (const name of ["TextMessage", "TemplateMessage", "ImageMessage", "DocumentMessage", "VideoMessage"]) {
    const own = schemas[name].allOf[1];
    schemas[name] = {
      type: "object",
      additionalProperties: false,
      required: [...baseMessage.required, ...(own.required ?? [])],
      properties: { ...baseMessage.properties, ...own.properties },
    };
  }
  schemas.LanguageObject.required = ["code"];
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== "object") return node;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === "$ref" && typeof v === "string" ? v.replace("#/components/schemas/", "#/$defs/") : rewrite(v)]));
  };
  // strictRequired is off: `IncomingMessageValueSystem` says `not: {required: ["contacts"]}`.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  ajv.addVocabulary(["example", "discriminator"]);
  const defs = rewrite(schemas);
  const validator = (name: string) => {
    const validate = ajv.compile({ $ref: `#/$defs/${name}`, $defs: defs });
    return (value: unknown) => (validate(value) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));
  };
  return validator;
}

const COMMUNICATION = "0194f7a2-5b1c-7d3e-8f90-123456789abc";
const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  communicationId: COMMUNICATION,
  tenantId: "0194f7a2-0000-7000-8000-000000000001",
  channel: "whatsapp",
  to: "+14155550123",
  recipientName: null,
  subject: null,
  content: "Your order A-42 has shipped",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/meta_whatsapp/cfg",
  ...over,
});
const TYPE_SCHEMA: Record<string, string> = { text: "TextMessage", template: "TemplateMessage", image: "ImageMessage", document: "DocumentMessage", video: "VideoMessage" };

const messages = [
  { name: "text", message: message() },
  { name: "text longer than a caption, then an image", message: message({ content: "x".repeat(2000), attachments: [{ filename: "a.png", fileUrl: "https://f.test/a.png", mimeType: "image/png" }] }) },
  {
    name: "captioned image, document and video",
    message: message({
      attachments: [
        { filename: "parcel.jpg", fileUrl: "https://files.acme.test/parcel.jpg", mimeType: "image/jpeg" },
        { filename: "invoice.pdf", fileUrl: "https://files.acme.test/invoice.pdf", mimeType: "application/pdf" },
        { filename: "unboxing.mp4", fileUrl: "https://files.acme.test/unboxing.mp4" },
      ],
    }),
  },
  { name: "template without parameters", message: message({ providerTemplate: { name: "hello_world", language: "en_US" } }) },
  {
    name: "template with header media and body parameters",
    message: message({
      providerTemplate: {
        name: "order_shipped",
        language: "pt_BR",
        components: [
          { type: "header", parameters: [{ type: "image", image: { link: "https://cdn.acme.test/a42.png" } }] },
          { type: "body", parameters: [{ type: "text", text: "A-42" }, { type: "text", text: "amanhã" }] },
        ],
      },
    }),
  },
];

describe("WhatsApp requests, answers and webhooks vs Meta's OpenAPI schemas", () => {
  const validator = metaSchemas();

  it.each(messages)("validates every body we send: $name", ({ message: m }) => {
    const bodies = whatsappBodies(m);
    expect(Array.isArray(bodies)).toBe(true);
    for (const body of bodies as Record<string, unknown>[]) {
      expect(validator(TYPE_SCHEMA[body.type as string]!)(body), JSON.stringify(body)).toEqual([]);
    }
  });

  it("bites: unknown fields, a missing recipient, over-long callback data, a language without a code", () => {
    const [text] = whatsappBodies(message()) as Record<string, any>[];
    const validateText = validator("TextMessage");
    expect(validateText({ ...text, body: "misplaced" })).toContain(" must NOT have additional properties");
    const { to: _to, ...noRecipient } = text!;
    expect(validateText(noRecipient)).toContain(" must have required property 'to'");
    expect(validateText({ ...text, biz_opaque_callback_data: "x".repeat(513) })).toContain("/biz_opaque_callback_data must NOT have more than 512 characters");
    expect(validateText({ ...text, text: { body: "hi", preview: true } })).toContain("/text must NOT have additional properties");
    const [template] = whatsappBodies(message({ providerTemplate: { name: "t", language: "en" } })) as Record<string, any>[];
    expect(validator("TemplateMessage")({ ...template, template: { name: "t", language: { locale: "en" } } })).toContain("/template/language must have required property 'code'");
  });

  it("the send answers and Graph errors our tests mock are Meta's shapes", () => {
    expect(validator("MessageResponsePayload")({ messaging_product: "whatsapp", contacts: [{ input: "+14155550123", wa_id: "14155550123" }], messages: [{ id: "wamid.X" }] })).toEqual([]);
    expect(validator("GraphAPIError")({ error: { message: "Re-engagement message", type: "OAuthException", code: 131047, error_subcode: 2494010, fbtrace_id: "AQm3HZ1mYm2" } })).toEqual([]);
  });

  // Only status payloads: the spec's incoming-message schemas point at the *outgoing* message
  // schemas (which require `to` and `recipient_type`), so no real incoming message validates.
  it("the status webhooks we test with are Meta's shape", () => {
    const payload = waStatuses([
      { id: "wamid.A", status: "sent", callback: COMMUNICATION },
      { id: "wamid.A", status: "delivered", callback: COMMUNICATION },
      { id: "wamid.A", status: "failed", callback: COMMUNICATION, errors: [{ code: 131047, title: "Re-engagement message" }] },
    ]);
    expect(validator("WebhookPayload")(payload)).toEqual([]);
    expect(validator("WebhookPayload")(waStatuses([{ id: "wamid.A", status: "seen" }]))).toContain("/entry/0/changes/0/value/statuses/0/status must be equal to one of the allowed values");
  });
});
