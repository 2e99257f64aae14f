/**
 * Resend webhooks, delivered and signed by Svix: `svix-signature` is a space-separated list of
 * `v1,<base64 HMAC-SHA256>` over `<svix-id>.<svix-timestamp>.<raw body>`, keyed with the base64
 * part of the `whsec_` secret (several during a secret rotation) — the Standard Webhooks scheme
 * Herald signs its own webhooks with, under other header names. `svix-id` is stable across
 * Svix's retries, so it is the dedupe key, and the replay key within the signature's window.
 */
import { z } from "zod";
import type { ProviderEvent, ReplayKey, SuppressionReason, Verification, WebhookHandler } from "../types";
import { constantTimeEqual } from "../../lib/crypto";
import { own } from "../../lib/own";
import { unixSeconds, withinWindow } from "../webhook-time";
import { signWebhook } from "../../lib/standard-webhooks";
import type { TrackedStatus } from "../../pipeline/status";
import { COMMUNICATION_TAG } from "./parts";

/** Svix's own libraries allow five minutes either way; Svix re-signs every retry. */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

const Event = z.object({
  type: z.string(),
  created_at: z.string(),
  data: z
    .object({
      email_id: z.string().optional(),
      tags: z.record(z.string(), z.string()).nullish(),
      bounce: z.object({ type: z.string(), subType: z.string().optional(), message: z.string().optional() }).loose().optional(),
      click: z.object({ link: z.string().optional() }).loose().optional(),
      failed: z.object({ reason: z.string().optional() }).loose().optional(),
      suppressed: z.object({ reason: z.string().optional(), type: z.string().optional() }).loose().optional(),
    })
    .loose(),
});
type Event = z.infer<typeof Event>;

const SUPPRESSED_BECAUSE: Record<string, SuppressionReason> = { previous_bounce: "bounce", previous_complaint: "complaint" };

function toEvent(e: Event, svixId: string, now: Date): ProviderEvent {
  const d = e.data;
  const at = Date.parse(e.created_at);
  const base = {
    communicationId: d.tags?.[COMMUNICATION_TAG] ?? null,
    providerMessageId: d.email_id ?? null,
    name: e.type,
    occurredAt: Number.isNaN(at) ? now : new Date(at),
    dedupeKey: `resend:${svixId}`,
    detail: {
      ...(d.bounce ? { type: d.bounce.type, ...(d.bounce.subType ? { subType: d.bounce.subType } : {}) } : {}),
      ...(d.click?.link ? { url: d.click.link } : {}),
      ...(d.failed?.reason ? { reason: d.failed.reason } : {}),
      ...(d.suppressed?.reason ? { reason: d.suppressed.reason } : {}),
    },
  };
  const to = (status: TrackedStatus | null, extra: Partial<ProviderEvent> = {}): ProviderEvent => ({ ...base, status, ...extra });
  switch (e.type) {
    case "email.sent":
      return to("sent");
    case "email.delivered":
      return to("delivered");
    case "email.opened":
      return to("opened");
    case "email.clicked":
      return to("clicked");
    case "email.bounced": {
      const b = d.bounce;
      const error = `bounced: ${[b?.type, b?.subType].filter(Boolean).join("/") || "bounce"}${b?.message ? ` (${b.message})` : ""}`;
      // Only a permanent bounce says the address is gone; transient ones (mailbox full) do not.
      return to("bounced", { error, ...(b?.type === "Permanent" ? { suppress: { reason: "bounce", detail: b.subType ?? b.type } } : {}) });
    }
    case "email.complained":
      return to(null, { suppress: { reason: "complaint", detail: "spam complaint" } });
    case "email.failed":
      return to("failed", { error: `Resend failed to send: ${d.failed?.reason ?? "no reason given"}` });
    case "email.suppressed": {
      const reason = own(SUPPRESSED_BECAUSE, d.suppressed?.reason ?? "");
      return to("failed", {
        error: `suppressed by Resend: ${d.suppressed?.reason ?? "on its suppression list"}`,
        ...(reason ? { suppress: { reason, detail: `Resend: ${d.suppressed?.reason}` } } : {}),
      });
    }
    default:
      // delivery_delayed, scheduled, received, contact.* and domain.*: timeline only.
      return to(null);
  }
}

export const resendWebhook: WebhookHandler<{ webhookSecret?: string }, unknown> = {
  async verify(request, credentials): Promise<Verification> {
    if (!credentials.webhookSecret) return { ok: false, reason: "no webhookSecret is configured for this provider" };
    const id = request.headers.get("svix-id");
    const timestamp = request.headers.get("svix-timestamp");
    const signatures = request.headers.get("svix-signature");
    if (!id || !timestamp || !signatures) return { ok: false, reason: "missing svix signature headers" };
    const at = unixSeconds(timestamp);
    if (at === undefined || !withinWindow(at, request.now, REPLAY_WINDOW_SECONDS)) return { ok: false, reason: "timestamp outside the replay window" };
    const expected = (await signWebhook(credentials.webhookSecret, id, at, request.rawBody))["webhook-signature"];
    const given = signatures.split(" ").filter((s) => s.startsWith("v1,"));
    return given.some((s) => constantTimeEqual(s, expected)) ? { ok: true } : { ok: false, reason: "bad signature" };
  },
  async replayKey(request): Promise<ReplayKey> {
    // Svix re-signs each retry with a new timestamp but the same id. A retry only follows a
    // failed attempt, whose claim rolled back; the claim lasts as long as the first signature.
    const timestamp = Number(request.headers.get("svix-timestamp"));
    return { nonce: request.headers.get("svix-id") ?? "", expiresAt: new Date((timestamp + REPLAY_WINDOW_SECONDS) * 1000) };
  },
  parse(request) {
    const event = Event.parse(JSON.parse(request.rawBody));
    // Verified requests always carry it; the fallback only keeps parse total.
    return [toEvent(event, request.headers.get("svix-id") ?? `${event.type}:${event.created_at}`, request.now)];
  },
};
