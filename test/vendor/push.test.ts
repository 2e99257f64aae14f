/**
 * Cross-checks the push providers in Node, against implementations other than ours:
 * - the Web Push body our adapter posts decrypts with `http_ece` (the RFC 8188/8291 library
 *   `web-push` itself uses) and the receiving browser's key, to exactly our payload; `web-push`'s
 *   own request for the same subscription carries the same headers, and its VAPID keys work with
 *   our adapter;
 * - the JWTs we sign with `jose` — FCM's RS256 service-account assertion, APNs' ES256 provider
 *   token, the ES256 VAPID token — verify with node:crypto, with the claims each vendor expects.
 */
// @ts-ignore -- typed below; the tree type-checks against workers-types, which may lack node:crypto.
import * as nodeCrypto from "node:crypto";
// @ts-ignore -- http_ece ships no types.
import ece from "http_ece";
import webPushLib from "web-push";
import { afterEach, describe, expect, it, vi } from "vitest";
import { webpush } from "../../src/channels/push/webpush";
import { fcmAssertion } from "../../src/channels/push/fcm";
import { apnsToken } from "../../src/channels/push/apns";
import { vapidAuthorization } from "../../src/channels/push/vapid";
import type { OutboundMessage } from "../../src/channels/types";
import type { PushTarget } from "../../src/channels/push/message";

type KeyObject = { export(o: { format: string; type?: string }): string | Record<string, string> };
const { createECDH, createPublicKey, generateKeyPairSync, randomBytes, verify } = nodeCrypto as unknown as {
  createECDH(curve: string): { generateKeys(): Uint8Array; getPublicKey(): Uint8Array };
  createPublicKey(key: unknown): KeyObject;
  generateKeyPairSync(type: string, o: Record<string, unknown>): { publicKey: KeyObject; privateKey: KeyObject };
  randomBytes(n: number): Uint8Array;
  verify(alg: string | null, data: Uint8Array, key: unknown, signature: Uint8Array): boolean;
};
const wp = webPushLib as unknown as {
  generateVAPIDKeys(): { publicKey: string; privateKey: string };
  generateRequestDetails(sub: unknown, payload: string, options: unknown): { headers: Record<string, string | number>; body: Uint8Array; endpoint: string };
};

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const fromB64url = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));

afterEach(() => vi.unstubAllGlobals());

/** A browser's subscription: its ECDH key (kept to decrypt) and auth secret. */
function browser() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, subscription: { endpoint: "https://push.example.net/wpush/v2/abc", keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) } } };
}

function captureBytes() {
  const requests: { url: string; headers: Headers; body: Uint8Array }[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ url: request.url, headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) });
    return new Response(null, { status: 201, headers: { location: "https://push.example.net/m/1" } });
  });
  return requests;
}

/** Splits a compact JWS and checks its signature with node:crypto. */
function verifyJws(jwt: string, key: unknown, alg: "RS256" | "ES256") {
  const [h, p, s] = jwt.split(".") as [string, string, string];
  const ok = verify(alg === "RS256" ? "RSA-SHA256" : "sha256", Buffer.from(`${h}.${p}`), alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key, fromB64url(s));
  return { ok, header: JSON.parse(Buffer.from(h, "base64url").toString()), payload: JSON.parse(Buffer.from(p, "base64url").toString()) };
}

/** A raw P-256 point (base64url) as a node public key. */
const pointKey = (point: string) => {
  const raw = fromB64url(point);
  return createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64url(raw.slice(1, 33)), y: b64url(raw.slice(33)) }, format: "jwk" });
};

const message = (push: PushTarget, to: string): OutboundMessage => ({
  communicationId: "0194f7a2-5b1c-7d3e-8f90-123456789abc",
  tenantId: "0194f7a2-0000-7000-8000-000000000001",
  channel: "push",
  to,
  recipientName: null,
  subject: "Your order shipped",
  content: "Order 1001 is on its way — ünïcödé ✓",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/webpush/cfg",
  push,
});

describe("Web Push: ours against http_ece and web-push", () => {
  it("posts a body http_ece decrypts, with the receiver's key alone, to exactly our payload", async () => {
    const vapid = wp.generateVAPIDKeys();
    const { ecdh, subscription } = browser();
    const adapter = webpush.create(webpush.credentials.parse({ vapidPrivateKey: vapid.privateKey }), webpush.settings.parse({ vapidPublicKey: vapid.publicKey, subject: "mailto:ops@acme.test" }));
    const requests = captureBytes();
    const device = { id: "d1", platform: "web" as const, transport: "webpush" as const, address: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth };
    const extras = { data: { orderId: "1001" }, clickUrl: "https://acme.test/o/1001" };
    const outcome = await adapter.send(message({ device, extras, urgent: false }, subscription.endpoint));
    expect(outcome).toEqual({ ok: true, providerMessageId: "https://push.example.net/m/1", httpStatus: 201 });

    const plaintext = ece.decrypt(Buffer.from(requests[0]!.body), { version: "aes128gcm", privateKey: ecdh, authSecret: subscription.keys.auth }) as Uint8Array;
    expect(JSON.parse(Buffer.from(plaintext).toString("utf8"))).toEqual({
      id: "0194f7a2-5b1c-7d3e-8f90-123456789abc",
      title: "Your order shipped",
      body: "Order 1001 is on its way — ünïcödé ✓",
      data: { orderId: "1001" },
      clickUrl: "https://acme.test/o/1001",
    });
    // A different auth secret must not decrypt it: the secret is bound in.
    expect(() => ece.decrypt(Buffer.from(requests[0]!.body), { version: "aes128gcm", privateKey: ecdh, authSecret: b64url(randomBytes(16)) })).toThrow();
  });

  it("sends the headers web-push sends for the same subscription and options, with a VAPID JWT of the same shape", async () => {
    const vapid = wp.generateVAPIDKeys();
    const { subscription } = browser();
    const adapter = webpush.create(webpush.credentials.parse({ vapidPrivateKey: vapid.privateKey }), webpush.settings.parse({ vapidPublicKey: vapid.publicKey, subject: "mailto:ops@acme.test" }));
    const requests = captureBytes();
    const device = { id: "d1", platform: "web" as const, transport: "webpush" as const, address: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth };
    await adapter.send(message({ device, extras: { ttlSeconds: 3600 }, urgent: true }, subscription.endpoint));
    const ours = requests[0]!;

    const theirs = wp.generateRequestDetails(subscription, "x", { TTL: 3600, urgency: "high", vapidDetails: { subject: "mailto:ops@acme.test", ...vapid } });
    expect(ours.url).toBe(theirs.endpoint);
    const lower = Object.fromEntries(Object.entries(theirs.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    for (const name of ["ttl", "urgency", "content-encoding", "content-type"]) expect([name, ours.headers.get(name)]).toEqual([name, lower[name]]);

    const parse = (auth: string) => /^vapid t=([^,]+), k=(.+)$/.exec(auth)!.slice(1) as [string, string];
    const [ourJwt, ourK] = parse(ours.headers.get("authorization")!);
    const [theirJwt, theirK] = parse(lower.authorization!);
    expect(ourK).toBe(theirK);
    const a = verifyJws(ourJwt, pointKey(vapid.publicKey), "ES256");
    const b = verifyJws(theirJwt, pointKey(vapid.publicKey), "ES256");
    expect(a.ok).toBe(true);
    expect(b.ok).toBe(true);
    expect(a.header).toEqual(b.header);
    expect(Object.keys(a.payload).sort()).toEqual(Object.keys(b.payload).sort());
    expect({ aud: a.payload.aud, sub: a.payload.sub }).toEqual({ aud: b.payload.aud, sub: b.payload.sub });
    expect(Math.abs(a.payload.exp - b.payload.exp)).toBeLessThanOrEqual(12 * 3600 + 5);
  });

  it("signs a VAPID token node:crypto verifies, and one node refuses under another key", async () => {
    const vapid = wp.generateVAPIDKeys();
    const auth = await vapidAuthorization(vapid, "https://fcm.googleapis.com", "https://acme.test/contact", new Date());
    const jwt = /t=([^,]+)/.exec(auth)![1]!;
    expect(verifyJws(jwt, pointKey(vapid.publicKey), "ES256").ok).toBe(true);
    expect(verifyJws(jwt, pointKey(wp.generateVAPIDKeys().publicKey), "ES256").ok).toBe(false);
  });
});

describe("JWTs: ours verified by node:crypto", () => {
  it("FCM's RS256 service-account assertion", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    const now = new Date("2026-11-23T15:00:00Z");
    const jwt = await fcmAssertion(
      { project_id: "acme-app", client_email: "herald@acme-app.iam.gserviceaccount.com", private_key: pem, private_key_id: "k1", token_uri: "https://oauth2.googleapis.com/token" },
      now,
    );
    const { ok, header, payload } = verifyJws(jwt, publicKey, "RS256");
    expect(ok).toBe(true);
    expect(header).toEqual({ alg: "RS256", typ: "JWT", kid: "k1" });
    expect(payload).toEqual({
      iss: "herald@acme-app.iam.gserviceaccount.com",
      scope: "https://www.googleapis.com/auth/firebase.messaging",
      aud: "https://oauth2.googleapis.com/token",
      iat: now.getTime() / 1000,
      exp: now.getTime() / 1000 + 3600,
    });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(verifyJws(jwt, other.publicKey, "RS256").ok).toBe(false);
  });

  it("APNs' ES256 provider token", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    const now = new Date("2026-11-23T15:00:00Z");
    const jwt = await apnsToken({ teamId: "ABCDE12345", keyId: "KEY1234567", privateKey: pem }, now);
    const { ok, header, payload } = verifyJws(jwt, publicKey, "ES256");
    expect(ok).toBe(true);
    expect(header).toEqual({ alg: "ES256", kid: "KEY1234567" });
    expect(payload).toEqual({ iss: "ABCDE12345", iat: now.getTime() / 1000 });
  });
});
