/**
 * Cross-checks the SES adapter and the SNS signature check against independent implementations,
 * in Node:
 * - SigV4: the Authorization header the adapter sends (signed by `aws4fetch`) must equal the one
 *   `aws4` computes for the same request at the same instant, and aws4fetch must reproduce the
 *   AWS SigV4 test suite's `get-vanilla` signature;
 * - SNS: messages signed with node:crypto (OpenSSL) over the field list sns-payload-validator
 *   uses must pass `verifySnsSignature` and `sesWebhook.verify`, and the public key @peculiar/x509
 *   cuts out of the certificate must equal the one node:crypto reads from it.
 */
import * as nodeCrypto from "node:crypto";
// @ts-expect-error -- aws4 ships no types; the one call used is typed below.
import aws4Untyped from "aws4";
import { AwsV4Signer } from "aws4fetch";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ses } from "../../src/channels/email/ses";
import { sesWebhook } from "../../src/channels/email/ses-webhook";
import { SnsMessage, spkiOfCertificate, verifySnsSignature } from "../../src/channels/email/sns";
import type { OutboundMessage } from "../../src/channels/types";
import { SNS_TEST_CERTIFICATE, SNS_TEST_PRIVATE_KEY } from "../fixtures/sns-test-certificate";
import { captureFetch } from "./capture";

type NodeBytes = Uint8Array & { toString(encoding: "base64"): string };
type Signer = { update(data: string): Signer; end(): void; sign(key: string, encoding: "base64"): string };
const { createPublicKey, createSign, verify } = nodeCrypto as {
  createPublicKey(pem: string): { export(options: { type: "spki"; format: "der" }): NodeBytes };
  createSign(algorithm: "RSA-SHA1" | "RSA-SHA256"): Signer;
  verify(algorithm: "sha1" | "sha256", data: Uint8Array, key: string, signature: Uint8Array): boolean;
};

type Aws4Request = { host: string; path: string; method: string; service: string; region: string; body: string; headers: Record<string, string>; extraHeadersToIgnore: Record<string, boolean> };
const aws4 = aws4Untyped as { sign(request: Aws4Request, credentials: Record<string, string>): Aws4Request };

const CREDENTIALS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const message: OutboundMessage = {
  communicationId: "01a20899-b1ff-72df-aaa1-3aeb52a3aa02",
  tenantId: "01a20899-b1ff-72df-aaa1-000000000001",
  channel: "email",
  to: "ada@example.com",
  recipientName: "Ada Lovelace",
  subject: "Your sign-in code — 123456",
  content: "<p>Your code is <b>123456</b>.</p>",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/ses/cfg",
};

describe("SigV4: the SES adapter (aws4fetch) vs aws4", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-23T14:05:09.123Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it.each([
    ["long-term credentials", "eu-west-1", {}],
    ["temporary credentials (session token)", "us-east-1", { sessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ" }],
  ])("signs exactly as aws4 does: %s in %s", async (_name, region, extra) => {
    const capture = captureFetch(() => Response.json({ MessageId: "0102018f6b7a1c2d" }));
    const settings = ses.settings.parse({ region, from: "billing@acme.test", configurationSetName: "herald" });
    const outcome = await ses.create(ses.credentials.parse({ ...CREDENTIALS, ...extra }), settings).send(message);
    expect(outcome).toMatchObject({ ok: true, providerMessageId: "0102018f6b7a1c2d" });
    const ours = capture.take();
    expect(ours.headers.get("x-amz-date")).toBe("20261123T140509Z");

    // aws4 signs Content-Type and Content-Length too; a Worker cannot promise the length fetch
    // will send, so the adapter signs host and x-amz-date only (as the AWS SDK's smithy signer
    // does). aws4 is told to leave the same two headers out.
    const signed = aws4.sign(
      {
        host: ours.url.host,
        path: ours.url.pathname,
        method: "POST",
        service: "ses",
        region,
        body: ours.body,
        headers: { "Content-Type": "application/json" },
        extraHeadersToIgnore: { "content-type": true, "content-length": true },
      },
      { ...CREDENTIALS, ...extra },
    );
    expect(ours.headers.get("authorization")).toBe(signed.headers.Authorization);
    expect(ours.headers.get("x-amz-security-token")).toBe(signed.headers["X-Amz-Security-Token"] ?? null);
  });

  it("aws4fetch reproduces the AWS SigV4 test suite's get-vanilla signature", async () => {
    const signer = new AwsV4Signer({
      method: "GET",
      url: "https://example.amazonaws.com/",
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      service: "service",
      region: "us-east-1",
      datetime: "20150830T123600Z",
    });
    expect(await signer.authHeader()).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, " +
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });
});

// ---- SNS message signatures ----

const TOPIC = "arn:aws:sns:us-east-1:123456789012:herald-ses-events";
const CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem";

/** sns-payload-validator's field lists (lib/keys.js), and its rule: a key is signed when present. */
const KEYS = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
} as const;

const signedText = (payload: Record<string, string>) =>
  KEYS[payload.Type as keyof typeof KEYS]
    .filter((key) => key in payload)
    .map((key) => `${key}\n${payload[key]}\n`)
    .join("");

function nodeSigned(payload: Record<string, string>, version: "1" | "2"): Record<string, string> {
  const signer = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
  signer.update(signedText(payload));
  signer.end();
  return { ...payload, SignatureVersion: version, SigningCertURL: CERT_URL, Signature: signer.sign(SNS_TEST_PRIVATE_KEY, "base64") };
}

const sesEvent = JSON.stringify({ eventType: "Delivery", mail: { messageId: "0102018f6b7a1c2d", tags: { herald_communication_id: ["c-1"] } }, delivery: { timestamp: "2026-11-23T14:00:01.000Z" } });
const notification = (extra: Record<string, string> = {}) => ({
  Type: "Notification",
  MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  TopicArn: TOPIC,
  Message: sesEvent,
  Timestamp: new Date().toISOString(),
  ...extra,
});

describe("SNS signatures: ours (WebCrypto + @peculiar/x509) vs node:crypto (OpenSSL)", () => {
  beforeEach(() => {
    captureFetch(() => new Response(SNS_TEST_CERTIFICATE));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("reads the same SubjectPublicKeyInfo (with @peculiar/x509) that node:crypto reads from the certificate", () => {
    const ours = spkiOfCertificate(SNS_TEST_CERTIFICATE);
    const theirs = createPublicKey(SNS_TEST_CERTIFICATE).export({ type: "spki", format: "der" });
    expect(Array.from(ours)).toEqual(Array.from(theirs));
  });

  it("refuses a certificate outside its validity period, and what is not a certificate", () => {
    expect(() => spkiOfCertificate(SNS_TEST_CERTIFICATE, new Date("2200-01-01T00:00:00Z"))).toThrow(/not valid now/);
    expect(() => spkiOfCertificate(SNS_TEST_CERTIFICATE, new Date("2026-01-01T00:00:00Z"))).toThrow(/not valid now/);
    expect(() => spkiOfCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")).toThrow();
  });

  it.each([
    ["Notification, SignatureVersion 1 (SHA-1)", notification(), "1"],
    ["Notification, SignatureVersion 2 (SHA-256)", notification(), "2"],
    ["Notification with a Subject", notification({ Subject: "Amazon SES Email Event Notification" }), "2"],
    [
      "SubscriptionConfirmation",
      { Type: "SubscriptionConfirmation", MessageId: "165545c9", Token: "2336412f37", TopicArn: TOPIC, Message: "You have chosen to subscribe…", SubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37", Timestamp: new Date().toISOString() },
      "1",
    ],
  ] as [string, Record<string, string>, "1" | "2"][])("accepts what node:crypto signs: %s", async (_name, payload, version) => {
    const signed = nodeSigned(payload, version);
    const data = new TextEncoder().encode(signedText(payload));
    expect(verify(version === "1" ? "sha1" : "sha256", data, SNS_TEST_CERTIFICATE, Uint8Array.from(atob(signed.Signature!), (c) => c.charCodeAt(0)))).toBe(true);
    expect(await verifySnsSignature(SnsMessage.parse(signed))).toEqual({ ok: true });
  });

  it("and both reject a changed field or a changed signature version", async () => {
    const signed = nodeSigned(notification(), "2");
    expect(await verifySnsSignature(SnsMessage.parse({ ...signed, Message: signed.Message!.replace("Delivery", "Bounce") }))).toEqual({ ok: false, reason: "bad signature" });
    expect(await verifySnsSignature(SnsMessage.parse({ ...signed, SignatureVersion: "1" }))).toEqual({ ok: false, reason: "bad signature" });
  });

  it("the whole SES webhook check passes a node:crypto-signed SES event of the configured topic", async () => {
    const rawBody = JSON.stringify(nodeSigned(notification(), "2"));
    const request = { url: "https://herald.test/webhooks/ses/cfg", rawBody, headers: new Headers({ "x-amz-sns-message-type": "Notification" }), now: new Date() };
    expect(await sesWebhook.verify(request, {}, { snsTopicArn: TOPIC })).toEqual({ ok: true });
    expect(sesWebhook.parse(request)).toEqual([
      expect.objectContaining({ communicationId: "c-1", providerMessageId: "0102018f6b7a1c2d", status: "delivered", dedupeKey: "ses:22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324" }),
    ]);
  });
});
