/**
 * SendGrid's signed Event Webhook. The signature is ECDSA P-256/SHA-256 over the timestamp header
 * followed by the raw body, DER-encoded and base64'd; the verification key is the base64 SPKI
 * shown in SendGrid's settings (our `settings.webhookVerificationKey`). Events arrive in batches
 * and carry our ids back in the custom args we set on send. No nonce is signed: a hash of the
 * signed timestamp and body is the replay key, so one signed request is applied once.
 */
import { z } from "zod";
import type { ProviderEvent, ReplayKey, SuppressionReason, Verification, WebhookHandler } from "../types";
import { derToP1363, sha256Hex } from "../../lib/crypto";
import { base64Decode } from "../../lib/base64";
import { unixSeconds, withinWindow } from "../webhook-time";
import type { TrackedStatus } from "../../pipeline/status";

export const SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature";
export const TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp";
/** SendGrid documents no replay window; retries may re-sign, and events are deduplicated anyway. */
export const REPLAY_WINDOW_SECONDS = 15 * 60;

const Event = z
  .object({
    event: z.string(),
    // Unix seconds; bounded so a hostile value cannot become an invalid date.
    timestamp: z.number().int().min(0).max(4_102_444_800),
    sg_event_id: z.string().optional(),
    sg_message_id: z.string().optional(),
    herald_communication_id: z.string().optional(),
    reason: z.string().optional(),
    type: z.string().optional(),
    status: z.string().optional(),
    url: z.string().optional(),
  })
  .loose();
const Events = z.array(Event).max(5000);
type Event = z.infer<typeof Event>;

async function verify(raw: string, signature: string, timestamp: string, keyB64: string): Promise<boolean> {
  const der = base64Decode(signature);
  const p1363 = derToP1363(der);
  if (!p1363) return false;
  const key = await crypto.subtle.importKey("spki", base64Decode(keyB64), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, p1363, new TextEncoder().encode(timestamp + raw));
}

const DROP_REASONS: [RegExp, SuppressionReason][] = [
  [/bounce/i, "bounce"],
  [/unsubscribe/i, "unsubscribe"],
  [/spam/i, "complaint"],
  [/invalid/i, "invalid"],
];

function toEvent(e: Event): ProviderEvent {
  const base = {
    communicationId: e.herald_communication_id ?? null,
    // sg_message_id is `<X-Message-Id>.<filter suffix>`: the part before the first dot is ours.
    providerMessageId: e.sg_message_id?.split(".")[0] ?? null,
    name: e.event,
    occurredAt: new Date(e.timestamp * 1000),
    dedupeKey: `sendgrid:${e.sg_event_id ?? `${e.sg_message_id}:${e.event}:${e.timestamp}`}`,
    detail: { ...(e.reason ? { reason: e.reason } : {}), ...(e.type ? { type: e.type } : {}), ...(e.url ? { url: e.url } : {}) },
  };
  const to = (status: TrackedStatus | null, extra: Partial<ProviderEvent> = {}): ProviderEvent => ({ ...base, status, ...extra });
  switch (e.event) {
    case "processed":
      return to("sent");
    case "delivered":
      return to("delivered");
    case "open":
      return to("opened");
    case "click":
      return to("clicked");
    case "bounce":
      // `blocked` is a soft, often temporary, refusal; only a hard bounce suppresses the address.
      return e.type === "blocked"
        ? to("bounced", { error: `blocked: ${e.reason ?? "refused by the receiving server"}` })
        : to("bounced", { error: `bounced: ${e.reason ?? "hard bounce"}`, suppress: { reason: "bounce", detail: e.reason } });
    case "dropped": {
      const reason = DROP_REASONS.find(([re]) => re.test(e.reason ?? ""))?.[1];
      return to("failed", { error: `dropped by SendGrid: ${e.reason ?? "no reason given"}`, ...(reason ? { suppress: { reason, detail: e.reason } } : {}) });
    }
    case "spamreport":
      return to(null, { suppress: { reason: "complaint", detail: "spam report" } });
    case "unsubscribe":
    case "group_unsubscribe":
      return to(null, { suppress: { reason: "unsubscribe", detail: e.event } });
    default:
      // deferred, group_resubscribe, account_status_change…: on the timeline, no status change.
      return to(null);
  }
}

export const sendgridWebhook: WebhookHandler<unknown, { webhookVerificationKey?: string }> = {
  async verify(request, _credentials, settings): Promise<Verification> {
    if (!settings.webhookVerificationKey) return { ok: false, reason: "no webhookVerificationKey is configured for this provider" };
    const signature = request.headers.get(SIGNATURE_HEADER);
    const timestamp = request.headers.get(TIMESTAMP_HEADER);
    if (!signature || !timestamp) return { ok: false, reason: "missing signature headers" };
    const at = unixSeconds(timestamp);
    if (at === undefined || !withinWindow(at, request.now, REPLAY_WINDOW_SECONDS)) return { ok: false, reason: "timestamp outside the replay window" };
    try {
      return (await verify(request.rawBody, signature, timestamp, settings.webhookVerificationKey)) ? { ok: true } : { ok: false, reason: "bad signature" };
    } catch {
      return { ok: false, reason: "bad signature" };
    }
  },
  async replayKey(request): Promise<ReplayKey> {
    // Not the signature itself: an ECDSA signature has a second valid form, (r, n - s).
    const timestamp = request.headers.get(TIMESTAMP_HEADER) ?? "";
    return { nonce: await sha256Hex(`${timestamp}.${request.rawBody}`), expiresAt: new Date((Number(timestamp) + REPLAY_WINDOW_SECONDS) * 1000) };
  },
  parse(request) {
    return Events.parse(JSON.parse(request.rawBody)).map(toEvent);
  },
};
