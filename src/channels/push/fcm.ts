/**
 * Firebase Cloud Messaging, HTTP v1 (`POST /v1/projects/{project}/messages:send`). FCM reaches
 * Android, iOS (it relays to APNs with the app's APNs key uploaded to Firebase) and browsers that
 * registered through the Firebase SDK, each by an FCM registration token. Credentials are the
 * service account's JSON key: we sign an RS256 JWT with it and trade it at `token_uri` for an OAuth
 * access token, reused for an hour less five minutes (see token-cache.ts).
 */
import { importPKCS8, SignJWT } from "jose";
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { cacheKey, cached, forget } from "./token-cache";
import { DEFAULT_TTL_SECONDS, type PushTarget } from "./message";

const credentials = z.object({
  project_id: z.string().regex(/^[a-z0-9-]{1,64}$/, "a Firebase project id"),
  client_email: z.email(),
  private_key: z.string().includes("BEGIN PRIVATE KEY", { message: "the service account's PEM private key" }),
  private_key_id: z.string().max(100).optional(),
  token_uri: z.url({ protocol: /^https$/ }).default("https://oauth2.googleapis.com/token"),
});
type Credentials = z.infer<typeof credentials>;
const settings = baseSettings;
type Settings = z.infer<typeof settings>;

export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
// Google's tokens live an hour; stop using one five minutes early so it never expires in flight.
const EARLY_MS = 5 * 60_000;

/** The signed assertion the service account trades for an access token (RFC 7523). */
export async function fcmAssertion(c: Credentials, now: Date) {
  const key = await importPKCS8(c.private_key, "RS256");
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ scope: FCM_SCOPE })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(c.private_key_id ? { kid: c.private_key_id } : {}) })
    .setIssuer(c.client_email)
    .setAudience(c.token_uri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(key);
}

class TokenError extends Error {
  constructor(readonly outcome: Extract<SendOutcome, { ok: false }>) {
    super(outcome.reason);
  }
}

async function accessToken(c: Credentials, s: Settings, key: string): Promise<string> {
  return cached(key, Date.now(), async () => {
    const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: await fcmAssertion(c, new Date()) });
    const res = await fetchWithTimeout(c.token_uri, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() }, s.timeoutMs);
    const answer = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!res.ok || !answer.access_token) {
      // invalid_grant and friends: the key is wrong or revoked, which no retry fixes.
      const failure = res.status === 429 || res.status >= 500 ? "retryable" : "provider";
      const why = answer.error ? `${answer.error}${answer.error_description ? `: ${answer.error_description}` : ""}` : `HTTP ${res.status}`;
      throw new TokenError({ ok: false, failure, reason: `Google refused the service account's token request (${why})`, httpStatus: res.status });
    }
    return { value: answer.access_token, ttlMs: Math.max(0, (answer.expires_in ?? 3600) * 1000 - EARLY_MS) };
  });
}

/** The v1 message: one token, a notification, and the per-platform options our extras map to. */
export function fcmBody(message: OutboundMessage, push: PushTarget) {
  const { extras, urgent } = push;
  const ttl = extras.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  return {
    message: {
      token: message.to,
      notification: { ...(message.subject ? { title: message.subject } : {}), body: message.content, ...(extras.imageUrl ? { image: extras.imageUrl } : {}) },
      // FCM data values must be strings; our id rides along so the app can report opens.
      data: { ...extras.data, heraldId: message.communicationId, ...(extras.clickUrl ? { clickUrl: extras.clickUrl } : {}) },
      android: { priority: urgent ? "high" : "normal", ttl: `${ttl}s`, ...(extras.sound ? { notification: { sound: extras.sound } } : {}) },
      apns: {
        headers: { "apns-priority": urgent ? "10" : "5", "apns-expiration": String(ttl === 0 ? 0 : Math.floor(Date.now() / 1000) + ttl) },
        payload: { aps: { ...(extras.badge !== undefined ? { badge: extras.badge } : {}), ...(extras.sound ? { sound: extras.sound } : {}) } },
      },
      webpush: { headers: { TTL: String(ttl), Urgency: urgent ? "high" : "normal" }, ...(extras.clickUrl ? { fcm_options: { link: extras.clickUrl } } : {}) },
    },
  };
}

type FcmError = { error?: { code?: number; message?: string; status?: string; details?: { "@type"?: string; errorCode?: string }[] } };

/** FCM's v1 error codes (firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode). */
export function fcmFailure(status: number, body: FcmError, retryAfter: string | null): Extract<SendOutcome, { ok: false }> {
  const e = body.error ?? {};
  const code = e.details?.find((d) => d.errorCode)?.errorCode ?? e.status ?? "";
  const reason = `FCM answered ${status} ${code}${e.message ? `: ${e.message}` : ""}`.trim();
  const base = { ok: false as const, reason, httpStatus: status, retryAfterSeconds: parseRetryAfter(retryAfter), response: e.status ? { status: e.status, errorCode: code } : undefined };
  if (code === "UNREGISTERED" || status === 404) return { ...base, failure: "permanent", deadDevice: true };
  // A malformed token is as dead as an expired one; other INVALID_ARGUMENTs are about the message.
  if (code === "INVALID_ARGUMENT" && /registration token|\btoken\b/i.test(e.message ?? "")) return { ...base, failure: "permanent", deadDevice: true };
  // The token belongs to another Firebase project: another config may own it.
  if (code === "SENDER_ID_MISMATCH" || code === "THIRD_PARTY_AUTH_ERROR") return { ...base, failure: "provider" };
  return { ...base, failure: classifyHttpStatus(status) };
}

export const fcm = defineProvider({
  kind: "fcm",
  channels: ["push"],
  transport: "fcm",
  credentials,
  settings,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      if (!message.push) return { ok: false, failure: "permanent", reason: "FCM sends only push messages to a device" };
      const key = await cacheKey("fcm", c.client_email, c.private_key, c.token_uri);
      let token: string;
      try {
        token = await accessToken(c, s, key);
      } catch (error) {
        if (error instanceof TokenError) return error.outcome;
        throw error;
      }
      const url = joinBase(s.baseUrl ?? "https://fcm.googleapis.com", `/v1/projects/${c.project_id}/messages:send`);
      const res = await fetchWithTimeout(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(fcmBody(message, message.push)) }, s.timeoutMs);
      const answer = (await res.json().catch(() => ({}))) as FcmError & { name?: string };
      if (res.ok && typeof answer.name === "string") return { ok: true, providerMessageId: answer.name, httpStatus: res.status };
      if (res.ok) return { ok: false, failure: "retryable", reason: "FCM answered without a message name", httpStatus: res.status };
      if (res.status === 401) forget(key);
      return fcmFailure(res.status, answer, res.headers.get("retry-after"));
    },
  }),
});
