/**
 * Mailgun webhooks (one JSON event per POST). The signature is hex(HMAC-SHA256(webhook signing
 * key, timestamp + token)); a subaccount's events also carry `parent-signature`, made the same
 * way with the parent account's key, so either key may be configured. Mailgun signs only the
 * timestamp and token, not the event, so a captured signature would carry any body: each token
 * is accepted once (the replay key), within the timestamp window below; events are also
 * deduplicated by `event-data.id`.
 */
import { z } from "zod";
import type { ProviderEvent, ReplayKey, Verification, WebhookHandler } from "../types";
import { constantTimeEqual, hmac } from "../../lib/crypto";
import type { TrackedStatus } from "../../pipeline/status";
import { COMMUNICATION_TAG } from "./parts";
import { own } from "../../lib/own";
import { unixSeconds, withinWindow } from "../webhook-time";
import { hexEncode } from "../../lib/hex";

/**
 * Mailgun is reported to resend the original signature block when it retries (after 5, 10, 15
 * min, then hours; its docs do not say): an hour admits the first three retries and bounds how
 * long a captured signature stays usable.
 */
export const REPLAY_WINDOW_SECONDS = 60 * 60;

const Payload = z.object({
  signature: z.object({
    timestamp: z.union([z.string(), z.number()]).transform(String),
    token: z.string().min(1),
    signature: z.string().min(1),
    "parent-signature": z.string().optional(),
  }),
  "event-data": z
    .object({
      event: z.string(),
      id: z.string().min(1),
      // Unix seconds (with a fraction); bounded so a hostile value cannot become an invalid date.
      timestamp: z.number().min(0).max(4_102_444_800),
      severity: z.string().optional(),
      reason: z.string().optional(),
      url: z.string().optional(),
      "user-variables": z.record(z.string(), z.unknown()).optional(),
      message: z.object({ headers: z.object({ "message-id": z.string().optional() }).loose() }).loose().optional(),
      "delivery-status": z.object({ code: z.number().optional(), message: z.string().optional(), description: z.string().optional() }).loose().optional(),
    })
    .loose(),
});
type EventData = z.infer<typeof Payload>["event-data"];
const SignatureBlock = z.object({ signature: Payload.shape.signature });

export async function mailgunSignature(signingKey: string, timestamp: string, token: string): Promise<string> {
  return hexEncode(await hmac("SHA-256", signingKey, timestamp + token));
}

/** Mailgun's `reason` on a permanent failure, when it says the address must not be mailed again. */
const SUPPRESSING = { bounce: "bounce", "suppress-bounce": "bounce", "suppress-complaint": "complaint", "suppress-unsubscribe": "unsubscribe" } as const;

function toEvent(e: EventData): ProviderEvent {
  const communicationId = e["user-variables"]?.[COMMUNICATION_TAG];
  const status = e["delivery-status"];
  const smtp = [status?.code, status?.description || status?.message].filter(Boolean).join(" ");
  const base = {
    communicationId: typeof communicationId === "string" ? communicationId : null,
    providerMessageId: e.message?.headers["message-id"] ?? null,
    name: e.event,
    occurredAt: new Date(e.timestamp * 1000),
    dedupeKey: `mailgun:${e.id}`,
    detail: {
      ...(e.severity ? { severity: e.severity } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
      ...(status?.code ? { code: status.code } : {}),
      ...(e.url ? { url: e.url } : {}),
    },
  };
  const to = (s: TrackedStatus | null, extra: Partial<ProviderEvent> = {}): ProviderEvent => ({ ...base, status: s, ...extra });
  switch (e.event) {
    case "accepted":
      return to("sent");
    case "delivered":
      return to("delivered");
    case "opened":
      return to("opened");
    case "clicked":
      return to("clicked");
    case "rejected":
      return to("failed", { error: `rejected by Mailgun${e.reason ? `: ${e.reason}` : ""}` });
    case "failed": {
      // A temporary failure is a deferral: Mailgun keeps trying, and reports again.
      if (e.severity !== "permanent") return to(null);
      const suppress = own<(typeof SUPPRESSING)[keyof typeof SUPPRESSING]>(SUPPRESSING, e.reason ?? "");
      const error = `${e.reason ?? "failed"}${smtp ? `: ${smtp}` : ""}`;
      if (suppress === "bounce") return to("bounced", { error: `bounced: ${error}`, suppress: { reason: "bounce", detail: smtp || e.reason } });
      return to("failed", { error: `failed permanently: ${error}`, ...(suppress ? { suppress: { reason: suppress, detail: e.reason } } : {}) });
    }
    case "complained":
      return to(null, { suppress: { reason: "complaint", detail: "spam complaint" } });
    case "unsubscribed":
      return to(null, { suppress: { reason: "unsubscribe", detail: "unsubscribed through Mailgun" } });
    default:
      // stored, list events…: on the timeline, no status change.
      return to(null);
  }
}

export const mailgunWebhook: WebhookHandler<{ webhookSigningKey?: string }, unknown> = {
  async verify(request, credentials): Promise<Verification> {
    if (!credentials.webhookSigningKey) return { ok: false, reason: "no webhookSigningKey is configured for this provider" };
    let signed;
    try {
      signed = SignatureBlock.parse(JSON.parse(request.rawBody)).signature;
    } catch {
      return { ok: false, reason: "missing signature" };
    }
    const at = unixSeconds(signed.timestamp);
    if (at === undefined || !withinWindow(at, request.now, REPLAY_WINDOW_SECONDS)) return { ok: false, reason: "timestamp outside the replay window" };
    const expected = await mailgunSignature(credentials.webhookSigningKey, signed.timestamp, signed.token);
    const given = [signed.signature, signed["parent-signature"]].filter((s): s is string => !!s);
    return given.some((s) => constantTimeEqual(s.toLowerCase(), expected)) ? { ok: true } : { ok: false, reason: "bad signature" };
  },
  async replayKey(request): Promise<ReplayKey> {
    const { timestamp, token } = SignatureBlock.parse(JSON.parse(request.rawBody)).signature;
    return { nonce: token, expiresAt: new Date((Number(timestamp) + REPLAY_WINDOW_SECONDS) * 1000) };
  },
  parse(request) {
    return [toEvent(Payload.parse(JSON.parse(request.rawBody))["event-data"])];
  },
};
