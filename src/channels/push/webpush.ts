/**
 * Web Push (RFC 8030) straight to the browser's push service, the endpoint in its subscription:
 * the payload encrypted for the subscription (RFC 8291, web-push-crypto.ts) and the request
 * signed with the tenant's VAPID key (RFC 8292, vapid.ts). The push service answers 201 with the
 * message's URL in `Location`; 404 or 410 means the subscription is gone.
 */
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type SendOutcome } from "../types";
import { fetchWithTimeout, parseRetryAfter } from "../../lib/http";
import { DEFAULT_TTL_SECONDS, pushPayload } from "./message";
import { completeVapid, vapidAuthorization } from "./vapid";
import { encryptForSubscription } from "./web-push-crypto";

const b64url = (bytes: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`), `${bytes} bytes, base64url without padding`);

const credentials = z.object({ vapidPrivateKey: b64url(32) });
const settings = baseSettings.extend({
  /** The browser's `applicationServerKey`; generated with the private key when neither is given. */
  vapidPublicKey: b64url(65),
  /** A contact for the push service's operators (RFC 8292 §2.1): mailto: or https:. */
  subject: z.string().regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, "a mailto: address or an https: URL"),
});

export const webpush = defineProvider({
  kind: "webpush",
  channels: ["push"],
  transport: "webpush",
  credentials,
  settings,
  complete: completeVapid,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const push = message.push;
      if (!push?.device.p256dh || !push.device.auth) return { ok: false, failure: "permanent", reason: "Web Push needs a browser subscription with its keys" };
      const plaintext = new TextEncoder().encode(JSON.stringify(pushPayload(message, push.extras)));
      let body: Uint8Array;
      try {
        body = await encryptForSubscription(plaintext, { p256dh: push.device.p256dh, auth: push.device.auth });
      } catch (error) {
        return { ok: false, failure: "permanent", reason: `cannot encrypt for this subscription: ${(error as Error).message}` };
      }
      const endpoint = new URL(message.to);
      const headers = {
        authorization: await vapidAuthorization({ publicKey: s.vapidPublicKey, privateKey: c.vapidPrivateKey }, endpoint.origin, s.subject, new Date()),
        "content-encoding": "aes128gcm",
        "content-type": "application/octet-stream",
        ttl: String(push.extras.ttlSeconds ?? DEFAULT_TTL_SECONDS),
        urgency: push.urgent ? "high" : "normal",
      };
      const res = await fetchWithTimeout(endpoint.href, { method: "POST", headers, body }, s.timeoutMs);
      const text = await res.text().catch(() => "");
      if (res.ok) return { ok: true, providerMessageId: res.headers.get("location") ?? `webpush-${message.communicationId}`, httpStatus: res.status };
      const reason = `the push service answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
      const base = { ok: false as const, reason, httpStatus: res.status, retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")) };
      if (res.status === 404 || res.status === 410) return { ...base, failure: "permanent", deadDevice: true };
      return { ...base, failure: classifyHttpStatus(res.status) };
    },
  }),
});
