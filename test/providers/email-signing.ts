/**
 * Signing email providers' webhooks the way the providers do, for tests. Written from the
 * providers' documentation with WebCrypto alone, not with the verifiers under test (which would
 * only prove that code agrees with itself); test/vendor/ checks both against the vendors' tools.
 */
import { SNS_TEST_CERTIFICATE, SNS_TEST_PRIVATE_KEY } from "../fixtures/sns-test-certificate";

const enc = new TextEncoder();
const b64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

async function hmacSha256(key: Uint8Array, data: string) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, enc.encode(data));
}

/** Mailgun: `{signature: {timestamp, token, signature: hex(HMAC-SHA256(key, timestamp + token))}, event-data}`. */
export async function mailgunBody(signingKey: string, eventData: Record<string, unknown>, timestamp = Math.floor(Date.now() / 1000)) {
  const token = Array.from(crypto.getRandomValues(new Uint8Array(25)), (b) => b.toString(16).padStart(2, "0")).join("");
  const mac = new Uint8Array(await hmacSha256(enc.encode(signingKey), `${timestamp}${token}`));
  const signature = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  return JSON.stringify({ signature: { timestamp: String(timestamp), token, signature }, "event-data": eventData });
}

/** Svix (Resend): `svix-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`. */
export async function svixHeaders(secret: string, body: string, opts: { id?: string; timestamp?: number } = {}) {
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const mac = await hmacSha256(unb64(secret.slice("whsec_".length)), `${id}.${timestamp}.${body}`);
  return { "content-type": "application/json", "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": `v1,${b64(mac)}` };
}

export const newWhsec = () => `whsec_${b64(crypto.getRandomValues(new Uint8Array(24)).buffer as ArrayBuffer)}`;

export const basicAuth = (user: string, password: string) => ({ authorization: `Basic ${btoa(`${user}:${password}`)}` });

export const SNS_CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";
export const SNS_CERTIFICATE = SNS_TEST_CERTIFICATE;

/** The fields SNS signs, in AWS's order (docs: "Verifying the signatures of Amazon SNS messages"). */
const SIGNED = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
  UnsubscribeConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
} as const;

export type SnsFields = {
  Type: keyof typeof SIGNED;
  TopicArn: string;
  Message: string;
  MessageId?: string;
  Timestamp?: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
};

/** An SNS HTTP/S POST body, signed with the test certificate's key (SignatureVersion 1 or 2). */
export async function snsBody(fields: SnsFields, opts: { version?: "1" | "2"; certUrl?: string; privateKeyPem?: string } = {}) {
  const version = opts.version ?? "2";
  const message: Record<string, string> = {
    MessageId: crypto.randomUUID(),
    Timestamp: new Date().toISOString(),
    ...fields,
    SignatureVersion: version,
    SigningCertURL: opts.certUrl ?? SNS_CERT_URL,
  };
  const text = SIGNED[fields.Type].filter((k) => message[k] !== undefined).map((k) => `${k}\n${message[k]}\n`).join("");
  const pem = (opts.privateKeyPem ?? SNS_TEST_PRIVATE_KEY).replace(/-----[^-]+-----|\s+/g, "");
  const key = await crypto.subtle.importKey("pkcs8", unb64(pem), { name: "RSASSA-PKCS1-v1_5", hash: version === "1" ? "SHA-1" : "SHA-256" }, false, ["sign"]);
  message.Signature = b64(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, enc.encode(text)));
  return JSON.stringify(message);
}

export const snsHeaders = (type: SnsFields["Type"]) => ({ "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": type });
