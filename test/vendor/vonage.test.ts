/**
 * Cross-checks the Vonage SMS provider in Node:
 * - webhook `sig` values: ours (WebCrypto) equal node:crypto's HMACs over the query Vonage's SDK
 *   (@vonage/sms `verifySignature`) builds — every parameter but `sig`, sorted, `&k=v`, with `&`
 *   and `=` in values replaced by `_`. The MD5 modes need Workers' MD5 and are checked in workerd
 *   against the vector published with Vonage's Python SDK (test/providers/vonage.test.ts);
 * - the form we send, the answers we parse and the receipts and inbound messages we test with
 *   validate against Vonage's OpenAPI document (test/fixtures/specs/vonage_sms.json).
 */
import * as nodeCrypto from "node:crypto";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vonage, vonageRequest } from "../../src/channels/sms/vonage";
import { vonageSignature, vonageWebhook } from "../../src/channels/sms/vonage-webhook";
import type { OutboundMessage } from "../../src/channels/types";
import smsSpec from "../fixtures/specs/vonage_sms.json";
import { vonageInbound, vonageReceipt } from "../providers/meta-vonage-payloads";

const { createHmac, timingSafeEqual } = nodeCrypto as {
  createHmac(alg: string, key: string): { update(data: string): { digest(enc: "hex"): string } };
  timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
};
beforeAll(() => {
  Object.defineProperty(crypto.subtle, "timingSafeEqual", { value: timingSafeEqual, configurable: true });
});
afterAll(() => {
  Reflect.deleteProperty(crypto.subtle, "timingSafeEqual");
});

/** @vonage/sms verifySignature's construction, with node:crypto's HMAC. */
function nodeSignature(params: Record<string, string>, secret: string, algorithm: "sha1" | "sha256" | "sha512") {
  let query = "";
  for (const name of Object.keys(params).sort()) if (name !== "sig") query += `&${name}=${params[name]!.replace(/[&=]/g, "_")}`;
  return createHmac(algorithm, secret).update(query).digest("hex");
}

const SECRET = "w8KxP1bQ9mZ3vR7t";
const NOW = new Date("2026-11-23T14:05:12Z");
const signedFields = (fields: Record<string, string>) => ({ ...fields, timestamp: String(NOW.getTime() / 1000), nonce: "ec11dd3e-1e7f-4db5-9467-82b02cd223b9" });
const samples = [
  { name: "a delivery receipt", params: signedFields(vonageReceipt("0A0000001234567B", "delivered", { "client-ref": "0194f7a2-5b1c-7d3e-8f90-123456789abc" })) },
  { name: "a failed receipt", params: signedFields(vonageReceipt("0A0000001234567B", "failed", { "err-code": "3" })) },
  { name: "an inbound STOP", params: signedFields(vonageInbound("447700900001", "STOP")) },
  { name: "unicode and reserved characters", params: signedFields(vonageInbound("447700900001", "Zoë & co = 李 😀 100% ?#")) },
];

describe("Vonage webhook signatures: ours vs node:crypto", () => {
  it.each(samples.flatMap((s) => (["sha1", "sha256", "sha512"] as const).map((algorithm) => ({ ...s, algorithm }))))(
    "same sig, and ours accepts it: $name, $algorithm",
    async ({ params, algorithm }) => {
      const theirs = nodeSignature(params, SECRET, algorithm);
      expect(await vonageSignature(params, SECRET, algorithm)).toBe(theirs);
      const body = new URLSearchParams({ ...params, sig: theirs.toUpperCase() }).toString();
      const request = { url: "https://herald.test/webhooks/vonage/cfg", rawBody: body, headers: new Headers({ "content-type": "application/x-www-form-urlencoded" }), now: NOW };
      expect(await vonageWebhook.verify(request, { signatureSecret: SECRET }, { signatureMethod: algorithm })).toEqual({ ok: true });
      expect(await vonageWebhook.verify(request, { signatureSecret: "other" }, { signatureMethod: algorithm })).toEqual({ ok: false, reason: "bad signature" });
    },
  );

  it("signs a JSON body's fields the same way", async () => {
    const params = samples[0]!.params;
    const sig = nodeSignature(params, SECRET, "sha256");
    const request = { url: "https://herald.test/webhooks/vonage/cfg", rawBody: JSON.stringify({ ...params, sig }), headers: new Headers({ "content-type": "application/json" }), now: NOW };
    expect(await vonageWebhook.verify(request, { signatureSecret: SECRET }, { signatureMethod: "sha256" })).toEqual({ ok: true });
  });
});

// OpenAPI 3.0 schemas are draft-04-ish JSON Schema: ajv's default dialect reads them once the
// OpenAPI-only keywords and the spec's own formats are declared. strictTypes is off because
// `NewMessage` omits `type: object`.
function vonageSchemas() {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  ajv.addVocabulary(["example", "xml", "x-possible-values"]);
  for (const format of ["vcard", "vcal"]) ajv.addFormat(format, true);
  const defs = JSON.parse(JSON.stringify(smsSpec.components.schemas).replaceAll("#/components/schemas/", "#/definitions/"));
  return (name: string) => {
    const validate = ajv.compile({ $ref: `#/definitions/${name}`, definitions: defs });
    return (value: unknown) => (validate(value) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));
  };
}

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  communicationId: "0194f7a2-5b1c-7d3e-8f90-123456789abc",
  tenantId: "0194f7a2-0000-7000-8000-000000000001",
  channel: "sms",
  to: "+447700900123",
  recipientName: null,
  subject: null,
  content: "Your code is 123456",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/vonage/0194f7a2-0000-7000-8000-0000000000cf?c=0194f7a2-5b1c-7d3e-8f90-123456789abc",
  ...over,
});
const credentials = vonage.credentials.parse({ apiKey: "abcd1234", apiSecret: "abcdef0123456789" }) as Parameters<typeof vonageRequest>[1];
const settings = (from: string) => vonage.settings.parse({ from }) as Parameters<typeof vonageRequest>[2];

describe("Vonage requests, answers and webhooks vs the SMS API spec", () => {
  const validator = vonageSchemas();
  // The form's values are strings on the wire; `ttl`, `status-report-req` and co. are not sent.
  const form = (m: OutboundMessage, from = "+14155550100") => Object.fromEntries(new URLSearchParams(vonageRequest(m, credentials, settings(from)).init.body));

  it.each([
    { name: "GSM text from a number", message: message(), from: "+14155550100" },
    { name: "unicode text from an alphanumeric sender", message: message({ content: "Café ☕ — 李" }), from: "AcmeInc" },
    { name: "a long message", message: message({ content: "z".repeat(1500) }), from: "447700900000" },
  ])("the form we send validates: $name", ({ message: m, from }) => {
    const body = form(m, from);
    expect(validator("NewMessage")(body)).toEqual([]);
    expect(body["client-ref"]!.length).toBeLessThanOrEqual(40);
    expect(vonageRequest(m, credentials, settings(from)).url).toBe(`${smsSpec.servers[0]!.url}/json`);
  });

  it("bites: a number with a plus, a short key, an unknown type", () => {
    const body = form(message());
    expect(validator("NewMessage")({ ...body, to: "+" })).toContain("/to must NOT have fewer than 7 characters");
    expect(validator("NewMessage")({ ...body, api_key: "abc" })).toContain("/api_key must NOT have fewer than 8 characters");
    expect(validator("NewMessage")({ ...body, type: "utf8" })).toContain("/type must be equal to one of the allowed values");
  });

  it("the answers and webhooks we test with are Vonage's shapes", () => {
    expect(validator("SMS")({ "message-count": "1", messages: [{ to: "14155550123", "message-id": "0A0000001234567B", status: "0", "remaining-balance": "3.14", "message-price": "0.0079", network: "310090" }] })).toEqual([]);
    expect(validator("Error")({ "message-count": "1", messages: [{ status: "4", "error-text": "Bad Credentials" }] })).toEqual([]);
    for (const { name, params } of samples) {
      const schema = "messageId" in params && "err-code" in params ? "DeliveryReceipt" : "InboundMessage";
      expect(validator(schema)({ ...params, sig: "0".repeat(64) }), name).toEqual([]);
    }
  });

  it("every status the adapter classifies is one the spec lists", () => {
    for (const code of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "12", "14", "15", "29", "33"]) expect(smsSpec.errors, code).toHaveProperty(code);
  });
});
