/**
 * Twilio's inbound WhatsApp message (media, a quick-reply button, the message it answers) at the
 * inbound URL, cross-checked with the `twilio` SDK: a signature the SDK makes
 * (`getExpectedTwilioSignature`) is accepted by `twilioInbound.verify` and the body parses; one
 * made with another auth token or for another config's URL is refused, as the SDK's
 * `validateRequest` refuses it too.
 */
import * as nodeCrypto from "node:crypto";
import * as nodeQuerystring from "node:querystring";
import twilioSdk from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilioInbound } from "../../src/channels/sms/twilio-inbound";
import type { InboundRequest } from "../../src/channels/inbound/types";
import { twilioWhatsappForm } from "../inbound/payloads";

const { timingSafeEqual } = nodeCrypto as { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean };
const parseForm = (nodeQuerystring as { parse(body: string): Record<string, string | string[]> }).parse;
// Node's WebCrypto lacks the Workers extension `constantTimeEqual` calls (as in webhook-signatures.test.ts).
beforeAll(() => Object.defineProperty(crypto.subtle, "timingSafeEqual", { value: timingSafeEqual, configurable: true }));
afterAll(() => Reflect.deleteProperty(crypto.subtle, "timingSafeEqual"));

const AUTH_TOKEN = "0123456789abcdef0123456789abcdef";
const URL_A = "https://herald.test/webhooks/inbound/twilio/0194f7a2-5b1c-7d3e-8f90-123456789abc";
const URL_B = "https://herald.test/webhooks/inbound/twilio/0194f7a2-5b1c-7d3e-8f90-cba987654321";

const request = (url: string, body: string, signature: string): InboundRequest => ({
  url,
  rawBody: body,
  bytes: new TextEncoder().encode(body),
  headers: new Headers({ "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature }),
  now: new Date(),
});

describe("Twilio inbound WhatsApp message: ours vs the twilio SDK", () => {
  const body = twilioWhatsappForm().toString();

  it("accepts the SDK's signature and reads the message", async () => {
    const signature = twilioSdk.getExpectedTwilioSignature(AUTH_TOKEN, URL_A, parseForm(body));
    expect(twilioSdk.validateRequest(AUTH_TOKEN, signature, URL_A, parseForm(body))).toBe(true);
    const req = request(URL_A, body, signature);
    expect(await twilioInbound.verify(req, { authToken: AUTH_TOKEN }, undefined)).toEqual({ ok: true });
    const [message] = await twilioInbound.parse(req, { id: "cfg", tenantId: "t", channel: "whatsapp" });
    expect(message).toMatchObject({ channel: "whatsapp", from: "+14155550199", button: { payload: "pay_invoice_INV-1" }, inReplyTo: "SM1a2b3c" });
    expect(message!.media).toHaveLength(2);
  });

  it("refuses what the SDK refuses: another auth token, another config's URL", async () => {
    const forged = twilioSdk.getExpectedTwilioSignature("fedcba9876543210fedcba9876543210", URL_A, parseForm(body));
    expect(twilioSdk.validateRequest(AUTH_TOKEN, forged, URL_A, parseForm(body))).toBe(false);
    expect(await twilioInbound.verify(request(URL_A, body, forged), { authToken: AUTH_TOKEN }, undefined)).toEqual({ ok: false, reason: "bad signature" });
    const forB = twilioSdk.getExpectedTwilioSignature(AUTH_TOKEN, URL_B, parseForm(body));
    expect(twilioSdk.validateRequest(AUTH_TOKEN, forB, URL_A, parseForm(body))).toBe(false);
    expect(await twilioInbound.verify(request(URL_A, body, forB), { authToken: AUTH_TOKEN }, undefined)).toEqual({ ok: false, reason: "bad signature" });
  });
});
