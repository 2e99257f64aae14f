/**
 * Vonage SMS API (`POST https://rest.nexmo.com/sms/json`, form-encoded, key and secret in the
 * body). The answer is HTTP 200 even when the message is refused: each segment of a long message
 * has its own entry and `status`, "0" meaning accepted. Our communication id goes in `client-ref`
 * (echoed on every receipt) and the receipt URL in `callback`. Vonage does not detect the
 * encoding: text outside GSM-7 is sent as `type=unicode`, or it would arrive garbled.
 */
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { smsSegments } from "../../templates/sms-segments";
import { SIGNATURE_METHODS, vonageWebhook } from "./vonage-webhook";

const credentials = z.object({
  apiKey: z.string().min(1),
  apiSecret: z.string().min(1),
  /** The account's signature secret: it signs receipts and inbound messages. Without it, webhooks are refused. */
  signatureSecret: z.string().min(1).optional(),
});
const settings = baseSettings.extend({
  /** A number (E.164, `+` optional) or an alphanumeric sender id where the destination allows one. */
  from: z.string().min(1).max(20),
  /** The signature method chosen in the Vonage dashboard next to the secret ("MD5 hash" unless changed). */
  signatureMethod: z.enum(SIGNATURE_METHODS).default("md5hash"),
});
type Credentials = z.infer<typeof credentials>;
type Settings = z.infer<typeof settings>;

export function vonageRequest(message: OutboundMessage, c: Credentials, s: Settings) {
  const form = new URLSearchParams({
    api_key: c.apiKey,
    api_secret: c.apiSecret,
    // Vonage wants digits only: no `+`, no spaces.
    from: /^\+?\d+$/.test(s.from) ? s.from.replace("+", "") : s.from,
    to: message.to.replace(/\D/g, ""),
    text: message.content,
    type: smsSegments(message.content).encoding === "GSM-7" ? "text" : "unicode",
    callback: message.statusCallbackUrl,
    "client-ref": message.communicationId, // a UUID: 36 of the 40 characters allowed
  });
  return {
    url: joinBase(s.baseUrl ?? "https://rest.nexmo.com", "/sms/json"),
    init: { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() } satisfies RequestInit,
  };
}

// `messages[].status` codes (Vonage SMS API spec, x-errors).
const STATUS_KINDS: Record<string, FailureKind> = {
  "1": "retryable", // throttled
  "5": "retryable", // internal error
  "10": "retryable", // too many binds
  "13": "retryable", // communication failure
  "4": "provider", // invalid credentials
  "8": "provider", // account barred
  "9": "provider", // out of credit
  "11": "provider", // account not enabled for the HTTP API
  "14": "provider", // invalid signature
  "15": "provider", // sender not allowed (e.g. alphanumeric to the US)
  "23": "provider", // callback URL refused
  "29": "provider", // trial account: destination not whitelisted
  "32": "provider", // signature and secret both given
};

type Part = { status?: string; "message-id"?: string; "error-text"?: string };

export const vonage = defineProvider({
  kind: "vonage",
  channels: ["sms"],
  credentials,
  settings,
  webhook: vonageWebhook,
  // Every send names our receipt URL (`callback`), so Vonage always reports delivery back.
  // Receipts are accepted only when signed with the signature secret.
  reportsDelivery: (_s, c) => !!c.signatureSecret,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const { url, init } = vonageRequest(message, c, s);
      const res = await fetchWithTimeout(url, init, s.timeoutMs);
      const text = await res.text();
      let parts: Part[] = [];
      try {
        parts = (JSON.parse(text) as { messages?: Part[] }).messages ?? [];
      } catch {
        // A non-JSON answer is classified by status alone.
      }
      const retryAfterSeconds = parseRetryAfter(res.headers.get("retry-after"));
      if (!res.ok) return { ok: false, failure: classifyHttpStatus(res.status), reason: `Vonage answered ${res.status}`, httpStatus: res.status, retryAfterSeconds };
      const refused = parts.findIndex((p) => p.status !== "0");
      const id = parts[0]?.["message-id"];
      if (parts.length && refused === -1 && id) return { ok: true, providerMessageId: id, httpStatus: res.status };
      const p = parts[refused];
      if (!p) return { ok: false, failure: "retryable", reason: "Vonage answered without a message id", httpStatus: res.status };
      const why = `status ${p.status}${p["error-text"] ? `: ${p["error-text"]}` : ""}`;
      // Some segments went out: sending the message again, here or elsewhere, would repeat them.
      if (parts.some((x) => x.status === "0")) {
        return { ok: false, failure: "permanent", reason: `Vonage refused part ${refused + 1} of ${parts.length} after accepting the others (${why})`, httpStatus: res.status };
      }
      return { ok: false, failure: STATUS_KINDS[p.status ?? ""] ?? "permanent", reason: `Vonage refused the message (${why})`, httpStatus: res.status, retryAfterSeconds };
    },
  }),
});
