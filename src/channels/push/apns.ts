/**
 * Apple Push Notification service with token auth (a .p8 key: ES256 JWT with `kid` = key id and
 * `iss` = team id, reused for 50 minutes; Apple wants it refreshed between 20 and 60).
 *
 * APNs speaks HTTP/2 only, and a Worker's fetch speaks HTTP/1.1, so Herald cannot call
 * api.push.apple.com itself (providers.md §7.1). This adapter therefore needs `relayUrl`: an
 * HTTP/2-capable relay you run that forwards `POST /3/device/{token}` with its headers and body to
 * api.push.apple.com (or api.sandbox.push.apple.com) and returns Apple's answer unchanged. Without
 * a relay, send iOS through FCM, which is the default path for iOS devices registered with FCM
 * tokens.
 */
import { importPKCS8, SignJWT } from "jose";
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { cacheKey, cached, forget } from "./token-cache";
import { DEFAULT_TTL_SECONDS, type PushTarget } from "./message";

const credentials = z.object({
  teamId: z.string().regex(/^[A-Z0-9]{10}$/, "the 10-character Apple team id"),
  keyId: z.string().regex(/^[A-Z0-9]{10}$/, "the 10-character key id of the .p8 key"),
  privateKey: z.string().includes("BEGIN PRIVATE KEY", { message: "the .p8 key's PEM contents" }),
});
type Credentials = z.infer<typeof credentials>;
const settings = baseSettings.extend({
  /** The HTTP/2 relay in front of api.push.apple.com; required, since Workers cannot speak HTTP/2. */
  relayUrl: z.url({ protocol: /^https$/ }),
  /** The app's bundle id: the `apns-topic`. */
  bundleId: z.string().regex(/^[A-Za-z0-9.-]{1,155}$/, "the app's bundle id, e.g. com.acme.app"),
});

const TOKEN_TTL_MS = 50 * 60_000;

/** Apple's provider token: ES256, header `kid`, claims `iss` and `iat` only. */
export async function apnsToken(c: Credentials, now: Date) {
  const key = await importPKCS8(c.privateKey, "ES256");
  return new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: c.keyId }).setIssuer(c.teamId).setIssuedAt(Math.floor(now.getTime() / 1000)).sign(key);
}

export function apnsRequest(message: OutboundMessage, push: PushTarget, bundleId: string, now: Date) {
  const { extras, urgent } = push;
  const ttl = extras.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const body = {
    aps: {
      alert: { ...(message.subject ? { title: message.subject } : {}), body: message.content },
      ...(extras.badge !== undefined ? { badge: extras.badge } : {}),
      ...(extras.sound ? { sound: extras.sound } : {}),
      // Lets a notification service extension fetch the image.
      ...(extras.imageUrl ? { "mutable-content": 1 } : {}),
    },
    heraldId: message.communicationId,
    ...(extras.data ? { data: extras.data } : {}),
    ...(extras.clickUrl ? { clickUrl: extras.clickUrl } : {}),
    ...(extras.imageUrl ? { imageUrl: extras.imageUrl } : {}),
  };
  const headers = {
    "apns-topic": bundleId,
    "apns-push-type": "alert",
    // 10 = now, 5 = when it suits the device's power budget.
    "apns-priority": urgent ? "10" : "5",
    // 0 = deliver once or drop; otherwise keep until then.
    "apns-expiration": String(ttl === 0 ? 0 : Math.floor(now.getTime() / 1000) + ttl),
    "content-type": "application/json",
  };
  return { path: `/3/device/${encodeURIComponent(message.to)}`, headers, body };
}

// Reasons that mean the token is gone (developer.apple.com, "Handling notification responses").
const DEAD = new Set(["BadDeviceToken", "Unregistered", "ExpiredToken"]);

export function apnsFailure(status: number, reason: string | undefined, retryAfter: string | null): Extract<SendOutcome, { ok: false }> {
  const base = { ok: false as const, reason: `APNs answered ${status}${reason ? ` ${reason}` : ""}`, httpStatus: status, retryAfterSeconds: parseRetryAfter(retryAfter) };
  if (status === 410 || (reason && DEAD.has(reason))) return { ...base, failure: "permanent", deadDevice: true };
  return { ...base, failure: classifyHttpStatus(status) };
}

export const apns = defineProvider({
  kind: "apns",
  channels: ["push"],
  transport: "apns",
  credentials,
  settings,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      if (!message.push) return { ok: false, failure: "permanent", reason: "APNs sends only push messages to a device" };
      const key = await cacheKey("apns", c.teamId, c.keyId, c.privateKey);
      const jwt = await cached(key, Date.now(), async () => ({ value: await apnsToken(c, new Date()), ttlMs: TOKEN_TTL_MS }));
      const { path, headers, body } = apnsRequest(message, message.push, s.bundleId, new Date());
      const res = await fetchWithTimeout(joinBase(s.relayUrl, path), { method: "POST", headers: { authorization: `bearer ${jwt}`, ...headers }, body: JSON.stringify(body) }, s.timeoutMs);
      if (res.ok) return { ok: true, providerMessageId: res.headers.get("apns-id") ?? `apns-${message.communicationId}`, httpStatus: res.status };
      const answer = (await res.json().catch(() => ({}))) as { reason?: string };
      // InvalidProviderToken, ExpiredProviderToken: mint a new one next time.
      if (res.status === 403) forget(key);
      return apnsFailure(res.status, answer.reason, res.headers.get("retry-after"));
    },
  }),
});
