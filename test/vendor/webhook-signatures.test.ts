/**
 * Cross-checks our inbound webhook verification against the vendors' own verifiers, in Node:
 * - SendGrid's signed Event Webhook (ECDSA P-256/SHA-256 over `timestamp + rawBody`, DER,
 *   base64): we sign as SendGrid does, with node:crypto (OpenSSL's DER encoder), and
 *   `@sendgrid/eventwebhook` and `sendgridWebhook.verify` must reach the same verdict — including
 *   on DER integers of every width, where a DER → P1363 conversion goes wrong if it goes wrong;
 * - Twilio's `X-Twilio-Signature` (HMAC-SHA1 over URL + sorted params): `twilioSignature` must
 *   equal the `twilio` SDK's `getExpectedTwilioSignature`, and each side must accept the other's.
 */
import * as nodeCrypto from "node:crypto";
import * as nodeQuerystring from "node:querystring";
import { EventWebhook } from "@sendgrid/eventwebhook";
import twilioSdk from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendgridWebhook } from "../../src/channels/email/sendgrid-webhook";
import { twilioSignature, twilioWebhook } from "../../src/channels/sms/twilio-webhook";
import type { InboundWebhook } from "../../src/channels/types";
import { derToP1363 } from "../../src/lib/crypto";

type NodeBytes = Uint8Array & { toString(encoding: "base64"): string };
type NodeKey = { export(options: { type: "spki"; format: "der" }): NodeBytes };
const { generateKeyPairSync, sign, verify, timingSafeEqual } = nodeCrypto as {
  generateKeyPairSync(type: "ec", options: { namedCurve: "P-256" }): { privateKey: NodeKey; publicKey: NodeKey };
  sign(algorithm: "sha256", data: Uint8Array, key: { key: NodeKey; dsaEncoding: "der" }): NodeBytes;
  verify(algorithm: "sha256", data: Uint8Array, key: { key: NodeKey; dsaEncoding: "ieee-p1363" }, signature: Uint8Array): boolean;
  timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
};
/** What Express's `urlencoded({ extended: false })` hands the SDK: repeated names become arrays. */
const parseForm = (nodeQuerystring as { parse(body: string): Record<string, string | string[]> }).parse;

// `constantTimeEqual` (src/lib/crypto.ts) calls `crypto.subtle.timingSafeEqual`, a Workers
// extension that Node's WebCrypto lacks. Node's own constant-time compare stands in for it here
// (both throw on a length mismatch, which constantTimeEqual checks first).
beforeAll(() => {
  Object.defineProperty(crypto.subtle, "timingSafeEqual", { value: timingSafeEqual, configurable: true });
});
afterAll(() => {
  Reflect.deleteProperty(crypto.subtle, "timingSafeEqual");
});

const encoder = new TextEncoder();

// ---- SendGrid ----

const ew = new EventWebhook();
const NOW = new Date("2026-05-04T10:00:00Z");
const seconds = (date: Date) => String(Math.floor(date.getTime() / 1000));

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  // The "verification key" SendGrid shows: base64 SPKI DER, no PEM armour.
  return { privateKey, publicKey, spki: publicKey.export({ type: "spki", format: "der" }).toString("base64") };
}
type Key = ReturnType<typeof newKey>;

const signDer = (key: Key, timestamp: string, body: string) =>
  sign("sha256", encoder.encode(timestamp + body), { key: key.privateKey, dsaEncoding: "der" });

function sendgridRequest(rawBody: string, signature: string | null, timestamp: string | null, now = NOW): InboundWebhook {
  const headers = new Headers();
  if (signature !== null) headers.set("X-Twilio-Email-Event-Webhook-Signature", signature);
  if (timestamp !== null) headers.set("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
  return { url: "https://herald.test/webhooks/sendgrid", rawBody, headers, now };
}

/** Both verdicts on one delivery: the SDK's (true/false) and ours (a Verification). */
async function verdicts(spki: string, body: string, signature: string, timestamp: string, now = NOW) {
  const theirs = ew.verifySignature(ew.convertPublicKeyToECDSA(spki), body, signature, timestamp);
  const ours = await sendgridWebhook.verify(sendgridRequest(body, signature, timestamp, now), {}, { webhookVerificationKey: spki });
  return { theirs, ours };
}
const accepted = { theirs: true, ours: { ok: true } };
const rejected = { theirs: false, ours: { ok: false, reason: "bad signature" } };

/** SendGrid's framing (see @sendgrid/eventwebhook's spec): one event per line, CRLF, trailing CRLF. */
const frame = (events: object[]) => `[${events.map((e) => JSON.stringify(e)).join(",\r\n")}]\r\n`;

const ids = { herald_communication_id: "com_01JD2Q8S4V7X9Z1B3C5E7G9J2K", herald_tenant_id: "ten_01JD2Q7N5P2R4T6V8X0Z2B4D6F" };
const event = (name: string, extra: object = {}) => ({
  email: "ada@example.com",
  event: name,
  sg_event_id: `ZGVsaXZlcmVkLTAtMTk5NDIxMTIt${name}`,
  sg_message_id: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
  "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
  timestamp: 1777888790,
  ...ids,
  ...extra,
});

const bodies: { name: string; events: number; body: string }[] = [
  { name: "one event, CRLF-terminated", events: 1, body: frame([event("delivered", { response: "250 2.0.0 OK" })]) },
  {
    name: "a batch of delivery and engagement events",
    events: 4,
    body: frame([
      event("processed", { send_at: 0 }),
      event("delivered", { ip: "167.89.101.76", tls: 1 }),
      event("open", { useragent: "Mozilla/5.0", sg_machine_open: false }),
      event("click", { url: "https://herald.test/c?t=1&u=2" }),
    ]),
  },
  {
    name: "unicode (accents, CJK, emoji) as raw UTF-8",
    events: 2,
    body: frame([
      event("bounce", { email: "zoë@exämple.com", type: "bounce", status: "5.1.1", reason: "550 5.1.1 Boîte inconnue — 邮箱不存在 📭" }),
      event("dropped", { category: ["Bestätigung", "注文"], reason: "Unsubscribed Address" }),
    ]),
  },
  {
    // A verifier must hash the bytes as sent; re-serialising would turn these into `é` and `/`.
    name: "JSON escapes (\\u00e9, \\/) kept as sent",
    events: 1,
    body: '[{"email":"ren\\u00e9@example.com","event":"click","url":"https:\\/\\/herald.test\\/r","sg_event_id":"Y2xpY2s","timestamp":1777888790}]\r\n',
  },
  { name: "compact, no trailing newline", events: 1, body: JSON.stringify([event("deferred", { attempt: "2" })]) },
  {
    name: "a large batch (500 events)",
    events: 500,
    body: frame(Array.from({ length: 500 }, (_, i) => event(i % 2 ? "delivered" : "processed", { sg_event_id: `ev-${i}` }))),
  },
];

/** Byte lengths of r and s in a DER `SEQUENCE { INTEGER r, INTEGER s }` (short-form lengths: P-256 fits). */
const derIntegerLengths = (der: Uint8Array) => ({ r: der[3]!, s: der[5 + der[3]!]! });
const width = (length: number) => (length === 33 ? "33 (0x00 before a high bit)" : length === 32 ? "32" : "≤31 (value < 2^248)");

describe("SendGrid Event Webhook signature: ours vs @sendgrid/eventwebhook", () => {
  it("both accept the vectors published in @sendgrid/eventwebhook's spec (signed by SendGrid)", async () => {
    // From @sendgrid/eventwebhook 8.0.0, src/eventwebhook.spec.js.
    const single = {
      spki: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==",
      signature: "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=",
      timestamp: "1600112502",
      body:
        JSON.stringify([
          {
            email: "hello@world.com",
            event: "dropped",
            reason: "Bounced Address",
            sg_event_id: "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
            sg_message_id: "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
            "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
            timestamp: 1600112492,
          },
        ]) + "\r\n",
    };
    const multiple = {
      spki: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==",
      // r and s both 33 bytes in DER (leading 0x00).
      signature: "MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5",
      timestamp: "1619651159",
      body:
        JSON.stringify([
          {
            email: "invalid@gmail.com",
            event: "processed",
            send_at: 0,
            sg_event_id: "cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA",
            sg_message_id: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
            "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
            timestamp: 1619651146,
          },
          {
            email: "invalid@gmail.com",
            event: "bounce",
            ip: "167.89.101.76",
            reason:
              "552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm c17si1130468pgv.34 - gsmtp",
            sg_event_id: "Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w",
            sg_message_id: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
            "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
            status: "5.2.2",
            timestamp: 1619651147,
            tls: 1,
            type: "blocked",
          },
        ])
          .split("},{")
          .join("},\r\n{") + "\r\n",
    };
    for (const v of [single, multiple]) {
      const at = new Date(Number(v.timestamp) * 1000);
      expect(await verdicts(v.spki, v.body, v.signature, v.timestamp, at)).toEqual(accepted);
      expect(await verdicts(v.spki, `${v.body} `, v.signature, v.timestamp, at)).toEqual(rejected);
    }
  });

  it.each(bodies)("both accept a signature made as SendGrid makes it: $name", async ({ body, events }) => {
    const key = newKey();
    const signature = signDer(key, seconds(NOW), body).toString("base64");
    expect(await verdicts(key.spki, body, signature, seconds(NOW))).toEqual(accepted);
    expect(sendgridWebhook.parse(sendgridRequest(body, signature, seconds(NOW)))).toHaveLength(events);
  });

  it.each(bodies)("both reject a tampered body: $name", async ({ body }) => {
    const key = newKey();
    const signature = signDer(key, seconds(NOW), body).toString("base64");
    const tampered = [
      body.replace('"event":"', '"event":"x'),
      body.trimEnd(), // a body parser that trims (differs only where the body ends in CRLF)
      JSON.stringify(JSON.parse(body)), // re-serialised instead of the raw bytes
    ].filter((b) => b !== body);
    expect(tampered.length).toBeGreaterThan(0);
    for (const b of tampered) expect(await verdicts(key.spki, b, signature, seconds(NOW))).toEqual(rejected);
  });

  it("both reject a signature made with another key", async () => {
    const [key, other] = [newKey(), newKey()];
    for (const { body } of bodies) {
      const signature = signDer(other, seconds(NOW), body).toString("base64");
      expect(await verdicts(key.spki, body, signature, seconds(NOW))).toEqual(rejected);
    }
  });

  it("both reject a tampered timestamp (still inside our replay window)", async () => {
    const key = newKey();
    const { body } = bodies[0]!;
    const signature = signDer(key, seconds(NOW), body).toString("base64");
    for (const delta of [-60, -1, 1, 60]) {
      expect(await verdicts(key.spki, body, signature, String(Number(seconds(NOW)) + delta))).toEqual(rejected);
    }
    // Moving a digit from the timestamp to the body keeps `timestamp + body` the same bytes, so
    // this forgery verifies for SendGrid's SDK too; it is harmless as it does not parse as JSON.
    // Our window rejects it: the shortened timestamp is ~50 years old.
    const shifted = await verdicts(key.spki, seconds(NOW).slice(-1) + body, signature, seconds(NOW).slice(0, -1));
    expect(shifted).toEqual({ theirs: true, ours: { ok: false, reason: "timestamp outside the replay window" } });
  });

  it("ours rejects timestamps outside its 15-minute window, which the SDK does not check", async () => {
    const key = newKey();
    const { body } = bodies[0]!;
    const at = (offset: number) => seconds(new Date(NOW.getTime() + offset * 1000));
    for (const offset of [-14 * 60, 14 * 60]) {
      const signature = signDer(key, at(offset), body).toString("base64");
      expect(await verdicts(key.spki, body, signature, at(offset))).toEqual(accepted);
    }
    for (const offset of [-16 * 60, -24 * 3600, 16 * 60]) {
      const signature = signDer(key, at(offset), body).toString("base64");
      expect(await verdicts(key.spki, body, signature, at(offset))).toEqual({
        theirs: true,
        ours: { ok: false, reason: "timestamp outside the replay window" },
      });
    }
  });

  it("ours rejects missing headers, a missing key and malformed signatures without throwing", async () => {
    const key = newKey();
    const { body } = bodies[0]!;
    const signature = signDer(key, seconds(NOW), body).toString("base64");
    const settings = { webhookVerificationKey: key.spki };
    const missing = { ok: false, reason: "missing signature headers" };
    expect(await sendgridWebhook.verify(sendgridRequest(body, null, seconds(NOW)), {}, settings)).toEqual(missing);
    expect(await sendgridWebhook.verify(sendgridRequest(body, signature, null), {}, settings)).toEqual(missing);
    expect(await sendgridWebhook.verify(sendgridRequest(body, null, null), {}, settings)).toEqual(missing);
    expect(await sendgridWebhook.verify(sendgridRequest(body, signature, seconds(NOW)), {}, {})).toEqual({
      ok: false,
      reason: "no webhookVerificationKey is configured for this provider",
    });
    expect(await sendgridWebhook.verify(sendgridRequest(body, signature, "not-a-number"), {}, settings)).toEqual({
      ok: false,
      reason: "timestamp outside the replay window",
    });
    const der = signDer(key, seconds(NOW), body);
    const p1363 = derToP1363(der)!;
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
    for (const bad of ["not base64!", "", b64(p1363), b64(der.subarray(0, 40)), b64(new Uint8Array(72))]) {
      expect(await sendgridWebhook.verify(sendgridRequest(body, bad, seconds(NOW)), {}, settings)).toMatchObject({ ok: false });
    }
  });

  it("both accept 50 random signatures (fresh key, body and timestamp each)", async () => {
    const widths = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const key = newKey();
      const random = crypto.getRandomValues(new Uint8Array(1 + (i % 40)));
      const body = frame([event("delivered", { n: i, noise: btoa(String.fromCharCode(...random)), note: "ünïcödé ✓" })]);
      const timestamp = String(Number(seconds(NOW)) - (i % 600));
      const der = signDer(key, timestamp, body);
      const { r, s } = derIntegerLengths(der);
      widths.add(`r ${width(r)}`).add(`s ${width(s)}`);
      expect(await verdicts(key.spki, body, der.toString("base64"), timestamp), `signature ${i}: r ${r} bytes, s ${s} bytes`).toEqual(accepted);
    }
    // Half of all r and s values have the high bit set: with 50 draws both DER widths show up.
    for (const w of ["r 33 (0x00 before a high bit)", "r 32", "s 33 (0x00 before a high bit)", "s 32"]) expect(widths).toContain(w);
  });

  it("both accept DER integers of every width; our r‖s is what OpenSSL verifies as IEEE P1363", async () => {
    // An integer shorter than 32 bytes (value < 2^248) turns up about once in 256 signatures for
    // each of r and s: sign until every (component, width) pair has an example.
    const key = newKey();
    const body = bodies[0]!.body;
    const timestamp = seconds(NOW);
    const data = encoder.encode(timestamp + body);
    const examples = new Map<string, NodeBytes>();
    for (let i = 0; i < 20_000 && examples.size < 6; i++) {
      const der = signDer(key, timestamp, body);
      const { r, s } = derIntegerLengths(der);
      for (const name of [`r ${width(r)}`, `s ${width(s)}`]) if (!examples.has(name)) examples.set(name, der);
    }
    expect([...examples.keys()].sort()).toEqual(
      ["r", "s"].flatMap((c) => [33, 32, 31].map((n) => `${c} ${width(n)}`)).sort(),
    );
    for (const [name, der] of examples) {
      const p1363 = derToP1363(der);
      expect(p1363, name).toHaveLength(64);
      expect(verify("sha256", data, { key: key.publicKey, dsaEncoding: "ieee-p1363" }, p1363!), name).toBe(true);
      expect(await verdicts(key.spki, body, der.toString("base64"), timestamp), name).toEqual(accepted);
    }
  });
});

// ---- Twilio ----

const AUTH_TOKEN = "0123456789abcdef0123456789abcdef";
const SID = "SM0123456789abcdef0123456789abcdef";
const ACCOUNT = "AC0123456789abcdef0123456789abcdef";

/** Status-callback URLs exactly as we hand them to Twilio (and as Twilio signs them). */
const urls = [
  { name: "no query", url: "https://herald.test/webhooks/twilio/status" },
  { name: "our ?c= id", url: "https://herald.test/webhooks/twilio/status?c=com_01JD2Q8S4V7X9Z1B3C5E7G9J2K" },
  { name: "a port and two query params", url: "https://herald.test:8443/webhooks/twilio/status?c=abc&t=ten_01JD2Q7N" },
  { name: "percent-encoded query", url: "https://herald.test/webhooks/twilio/status?c=com%2F01%20x&n=caf%C3%A9" },
  { name: "local http dev server", url: "http://127.0.0.1:8787/webhooks/twilio/status?c=abc" },
];

/** Form bodies as they arrive on the wire. */
const forms = [
  {
    name: "SMS delivered",
    body: `SmsSid=${SID}&SmsStatus=delivered&MessageStatus=delivered&To=%2B15558675310&MessageSid=${SID}&AccountSid=${ACCOUNT}&From=%2B15017122661&ApiVersion=2010-04-01`,
  },
  {
    name: "undelivered, with an error code and empty values",
    body: `MessageStatus=undelivered&ErrorCode=30003&ErrorMessage=&MessageSid=${SID}&AccountSid=${ACCOUNT}&MessagingServiceSid=&To=%2B15558675310`,
  },
  {
    name: "WhatsApp, unicode in %-escapes, + and %20 for spaces",
    body: `MessageStatus=read&MessageSid=${SID}&ChannelToAddress=%2B15558675310&ProfileName=Zo%C3%AB+%E6%9D%8E%20%F0%9F%98%80&Body=Caf%C3%A9+%E2%98%95`,
  },
  {
    name: "repeated MediaUrl, values out of order",
    body: `MessageSid=${SID}&NumMedia=3&MediaUrl=https%3A%2F%2Fcdn.herald.test%2Fc.png&MediaUrl=https%3A%2F%2Fcdn.herald.test%2Fa.png&MediaUrl=https%3A%2F%2Fcdn.herald.test%2Fb.png&MessageStatus=received`,
  },
  { name: "reserved characters in a value", body: `MessageSid=${SID}&MessageStatus=received&Body=a%26b%3Dc+%2B1+100%25+%3F%23` },
  { name: "no params", body: "" },
];

const grid = urls.flatMap((u) => forms.map((f) => ({ name: `${u.name} × ${f.name}`, url: u.url, body: f.body })));

const twilioRequest = (url: string, rawBody: string, signature?: string): InboundWebhook => ({
  url,
  rawBody,
  headers: new Headers(signature === undefined ? {} : { "X-Twilio-Signature": signature }),
  now: NOW,
});

describe("Twilio X-Twilio-Signature: ours vs the twilio SDK", () => {
  it("reproduces the worked example in Twilio's security docs", async () => {
    const params = { CallSid: "CA1234567890ABCDE", Caller: "+12349013030", Digits: "1234", From: "+12349013030", To: "+18005551212" };
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    expect(twilioSdk.getExpectedTwilioSignature("12345", url, params)).toBe("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    expect(await twilioSignature("12345", url, new URLSearchParams(params))).toBe("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  });

  it.each(grid)("same signature, and each side accepts the other's: $name", async ({ url, body }) => {
    const params = parseForm(body);
    const ours = await twilioSignature(AUTH_TOKEN, url, new URLSearchParams(body));
    const theirs = twilioSdk.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
    expect(ours).toBe(theirs);
    expect(twilioSdk.validateRequest(AUTH_TOKEN, ours, url, params)).toBe(true);
    expect(await twilioWebhook.verify(twilioRequest(url, body, theirs), { authToken: AUTH_TOKEN }, {})).toEqual({ ok: true });
  });

  it("passes repeated names to the SDK as arrays, as Express does", () => {
    expect(parseForm(forms[3]!.body).MediaUrl).toEqual([
      "https://cdn.herald.test/c.png",
      "https://cdn.herald.test/a.png",
      "https://cdn.herald.test/b.png",
    ]);
  });

  // The SDK de-duplicates repeated values before sorting (`new Set(paramValue)` in
  // lib/webhooks/webhooks.js); this case found that `twilioSignature` once did not.
  it("agrees on a repeated name with a duplicated value (MediaUrl twice, same URL)", async () => {
    const url = urls[1]!.url;
    const body = `MessageSid=${SID}&MessageStatus=received&MediaUrl=https%3A%2F%2Fcdn.herald.test%2Fa.png&MediaUrl=https%3A%2F%2Fcdn.herald.test%2Fa.png`;
    const theirs = twilioSdk.getExpectedTwilioSignature(AUTH_TOKEN, url, parseForm(body));
    expect(await twilioSignature(AUTH_TOKEN, url, new URLSearchParams(body))).toBe(theirs);
  });

  it("both reject a signature made with another auth token", async () => {
    for (const { url, body } of grid) {
      const params = parseForm(body);
      const forged = twilioSdk.getExpectedTwilioSignature("fedcba9876543210fedcba9876543210", url, params);
      expect(twilioSdk.validateRequest(AUTH_TOKEN, forged, url, params)).toBe(false);
      expect(await twilioWebhook.verify(twilioRequest(url, body, forged), { authToken: AUTH_TOKEN }, {})).toEqual({ ok: false, reason: "bad signature" });
    }
  });

  it("both reject a tampered param, an added param and another communication's URL", async () => {
    const url = urls[1]!.url;
    const body = forms[0]!.body;
    const signature = twilioSdk.getExpectedTwilioSignature(AUTH_TOKEN, url, parseForm(body));
    const tampered = [
      { url, body: body.replace("MessageStatus=delivered", "MessageStatus=failed") },
      { url, body: `${body}&ErrorCode=30007` },
      { url, body: body.replace("To=%2B15558675310", "To=%2B15558675311") },
      { url: url.replace("?c=com_01JD", "?c=com_02JD"), body },
    ];
    for (const t of tampered) {
      expect(twilioSdk.validateRequest(AUTH_TOKEN, signature, t.url, parseForm(t.body))).toBe(false);
      expect(await twilioWebhook.verify(twilioRequest(t.url, t.body, signature), { authToken: AUTH_TOKEN }, {})).toEqual({
        ok: false,
        reason: "bad signature",
      });
    }
  });

  it("ours rejects a missing or empty header", async () => {
    const { url, body } = grid[0]!;
    expect(await twilioWebhook.verify(twilioRequest(url, body), { authToken: AUTH_TOKEN }, {})).toEqual({ ok: false, reason: "missing X-Twilio-Signature" });
    expect(await twilioWebhook.verify(twilioRequest(url, body, ""), { authToken: AUTH_TOKEN }, {})).toMatchObject({ ok: false });
  });
});
