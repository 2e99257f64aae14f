/** Shared by the push tests: keys minted per test, provider configs against mocks, devices. */
import { base64url } from "jose";
import { expect } from "vitest";
import { addProvider, call, captureQueue, runDelivery } from "../helpers";

export const FCM_API = "https://fcm.mock";
export const OAUTH = "https://oauth.mock";
export const APNS_RELAY = "https://apns-relay.mock";
export const PUSH_SERVICE = "https://push.mock";

const pem = (der: ArrayBuffer) => `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...new Uint8Array(der))).replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`;

/** A service account key: a fresh RSA key per test, so the isolate's token cache starts empty. */
export async function serviceAccount() {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  return {
    publicKey: pair.publicKey,
    json: {
      type: "service_account",
      project_id: "acme-app",
      private_key_id: "k1",
      private_key: pem((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer),
      client_email: "herald@acme-app.iam.gserviceaccount.com",
      token_uri: `${OAUTH}/token`,
    },
  };
}

export async function p8Key() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return { publicKey: pair.publicKey, pem: pem((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer) };
}

/** What a browser's PushManager gives: a P-256 key and a 16-byte secret, plus the private half to decrypt with. */
export async function browserSubscription(path = crypto.randomUUID()) {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const auth = crypto.getRandomValues(new Uint8Array(16));
  return {
    privateKey: pair.privateKey,
    subscription: { endpoint: `${PUSH_SERVICE}/send/${path}`, expirationTime: null, keys: { p256dh: base64url.encode(raw), auth: base64url.encode(auth) } },
  };
}

export const FCM_TOKEN = (n = 1) => `fcm-token-${n}:APA91b${"x".repeat(40)}`;
export const APNS_TOKEN = (n = 1) => n.toString(16).padStart(2, "0").repeat(32);

export const fcmConfig = (account: Awaited<ReturnType<typeof serviceAccount>>, over: Record<string, unknown> = {}) => ({
  channel: "push",
  provider: "fcm",
  priority: 1,
  credentials: account.json,
  settings: { baseUrl: FCM_API },
  ...over,
});
export const apnsConfig = (pemKey: string, over: Record<string, unknown> = {}) => ({
  channel: "push",
  provider: "apns",
  priority: 1,
  credentials: { teamId: "ABCDE12345", keyId: "KEY1234567", privateKey: pemKey },
  settings: { relayUrl: APNS_RELAY, bundleId: "com.acme.app" },
  ...over,
});
export const webpushConfig = (over: Record<string, unknown> = {}) => ({
  channel: "push",
  provider: "webpush",
  priority: 1,
  settings: { subject: "mailto:ops@acme.test" },
  ...over,
});

export const oauthAccepts = (token = "ya29.test-access-token") => () => Response.json({ access_token: token, expires_in: 3599, token_type: "Bearer" });
export const fcmAccepts = () => () => Response.json({ name: `projects/acme-app/messages/0:${crypto.randomUUID()}` });

export async function register(key: string, body: Record<string, unknown>, recipient = "customer/42") {
  const res = await call("POST", `/api/recipients/${recipient}/devices`, { key, body });
  expect([200, 201], res.text).toContain(res.status);
  return res.json as { id: string };
}

/** Sends a push to customer 42 and hands what was enqueued to the delivery consumer. */
export async function pushAndDeliver(key: string, queue: ReturnType<typeof captureQueue>, body: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/communications/send", {
    key,
    body: { channel: "push", recipientType: "customer", recipientId: "42", subject: "Your order shipped", content: "Order 1001 is on its way", ...body },
  });
  expect(res.status, res.text).toBe(201);
  const run = await runDelivery(queue.drain().map((m) => m.body));
  return { id: res.json.id as string, ...run };
}

export async function timeline(key: string, id: string) {
  const res = await call("GET", `/api/communications/${id}`, { key });
  return res.json as { status: string; errorMessage: string | null; providerMessageId: string | null; events: any[] } & Record<string, any>;
}
