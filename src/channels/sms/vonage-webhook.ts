/**
 * Vonage SMS API webhooks: delivery receipts (to the `callback` URL we send, with our `?c=`) and
 * inbound messages (to the number's inbound URL, read by vonage-inbound.ts), as POST form or JSON. Vonage signs
 * them when signed webhooks are enabled on the account: `sig` over every other parameter, each
 * value's `&` and `=` replaced by `_`, sorted by name, as `&name=value…`, then either
 * md5(query + secret) ("MD5 hash") or an HMAC of the query keyed by the signature secret; hex.
 * The signed `timestamp` bounds replays and the signed `nonce` is accepted once; receipts are
 * also deduplicated. Only signed parameters name a communication: the `?c=` of the callback URL
 * is outside the signature, so a receipt finds its message by `client-ref` or `messageId`.
 */
import { z } from "zod";
import type { ProviderEvent, ReplayKey, SuppressionReason, Verification, WebhookHandler } from "../types";
import { constantTimeEqual } from "../../lib/crypto";
import { own } from "../../lib/own";
import { unixSeconds, withinWindow } from "../webhook-time";
import type { TrackedStatus } from "../../pipeline/status";
import { hexEncode } from "../../lib/hex";

export const SIGNATURE_METHODS = ["md5hash", "md5", "sha1", "sha256", "sha512"] as const;
export type SignatureMethod = (typeof SIGNATURE_METHODS)[number];
/** Vonage's own guidance is a few minutes; a signature further off is refused. */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

const HMAC_HASH = { md5: "MD5", sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" } as const;
const encoder = new TextEncoder();

export async function vonageSignature(params: Record<string, string>, secret: string, method: SignatureMethod): Promise<string> {
  const query = Object.keys(params)
    .filter((name) => name !== "sig")
    .sort()
    .map((name) => `&${name}=${params[name]!.replace(/[&=]/g, "_")}`)
    .join("");
  // MD5 is a non-standard WebCrypto extension in Workers; Vonage's "MD5 hash" mode needs it.
  if (method === "md5hash") return hexEncode(await crypto.subtle.digest("MD5", encoder.encode(query + secret)));
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: HMAC_HASH[method] }, false, ["sign"]);
  return hexEncode(await crypto.subtle.sign("HMAC", key, encoder.encode(query)));
}

/** The webhook's parameters, from a form or a flat JSON body, as strings. */
export function vonageParams(rawBody: string, headers: Headers): Record<string, string> {
  if (!/json/i.test(headers.get("content-type") ?? "")) return Object.fromEntries(new URLSearchParams(rawBody));
  const body: unknown = JSON.parse(rawBody);
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error("not a JSON object");
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
}

const Receipt = z
  .object({ messageId: z.string().min(1), status: z.string().min(1), "err-code": z.string().optional(), "client-ref": z.string().optional(), price: z.string().optional() })
  .loose();

const STATUS: Record<string, TrackedStatus | null> = {
  accepted: "sent", // taken by the carrier
  buffered: null,
  delivered: "delivered",
  expired: "failed",
  failed: "failed",
  rejected: "failed",
  unknown: null,
};

/** DLR err-codes Vonage says mean "remove this number" (help.nexmo.com, "SMS Delivery Error Codes"). */
const SUPPRESSING_CODES: Record<string, { reason: SuppressionReason; detail: string }> = {
  "3": { reason: "invalid", detail: "number no longer active" },
  "4": { reason: "invalid", detail: "messages barred for this number" },
  "9": { reason: "opt_out", detail: "recipient refused messages from this service" },
};

const OUR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const vonageWebhook: WebhookHandler<{ signatureSecret?: string }, { signatureMethod: SignatureMethod }> = {
  async verify(request, credentials, settings): Promise<Verification> {
    if (!credentials.signatureSecret) return { ok: false, reason: "no signatureSecret is configured for this provider (turn on Vonage's signed webhooks)" };
    let params: Record<string, string>;
    try {
      params = vonageParams(request.rawBody, request.headers);
    } catch {
      return { ok: false, reason: "missing sig: the body is neither a form nor a JSON object" };
    }
    const sig = own(params, "sig");
    const timestamp = own(params, "timestamp");
    if (!sig || !timestamp) return { ok: false, reason: "missing sig or timestamp" };
    const at = unixSeconds(timestamp);
    if (at === undefined || !withinWindow(at, request.now, REPLAY_WINDOW_SECONDS)) return { ok: false, reason: "timestamp outside the replay window" };
    const expected = await vonageSignature(params, credentials.signatureSecret, settings.signatureMethod);
    return constantTimeEqual(sig.toLowerCase(), expected) ? { ok: true } : { ok: false, reason: "bad signature" };
  },
  async replayKey(request): Promise<ReplayKey> {
    const params = vonageParams(request.rawBody, request.headers);
    // Signed webhooks carry a nonce; without one, the signature itself stands for the request.
    const nonce = own(params, "nonce") || (own(params, "sig") ?? "").toLowerCase();
    return { nonce, expiresAt: new Date((Number(own(params, "timestamp")) + REPLAY_WINDOW_SECONDS) * 1000) };
  },
  parse(request): ProviderEvent[] {
    const r = Receipt.parse(vonageParams(request.rawBody, request.headers));
    const status = own(STATUS, r.status) ?? null;
    const code = r["err-code"] && r["err-code"] !== "0" ? r["err-code"] : undefined;
    const suppress = status === "failed" && code ? own(SUPPRESSING_CODES, code) : undefined;
    const ref = r["client-ref"];
    return [
      {
        // A long message has one receipt per part, each with its own messageId; client-ref joins them.
        communicationId: ref && OUR_ID.test(ref) ? ref : null,
        providerMessageId: r.messageId,
        status,
        name: r.status,
        occurredAt: request.now,
        dedupeKey: `vonage:${r.messageId}:${r.status}`,
        ...(status === "failed" ? { error: `Vonage reported ${r.status}${code ? ` (err-code ${code})` : ""}` } : {}),
        ...(suppress ? { suppress } : {}),
        detail: { ...(code ? { errorCode: code } : {}), ...(r.price ? { price: r.price } : {}) },
      },
    ];
  },
};
