/**
 * Postmark webhooks (one JSON record per POST, `RecordType` says which). Postmark does not sign
 * them; it sends the user and password of the webhook URL (`https://user:pass@host/…`) as HTTP
 * Basic credentials, which we compare in constant time with the config's own. Nothing in a
 * record is fresh per delivery, so a replayed record cannot be told from a retry: both are
 * deduplicated instead.
 */
import { z } from "zod";
import type { ProviderEvent, SuppressionReason, Verification, WebhookHandler } from "../types";
import { constantTimeEqual } from "../../lib/crypto";
import { base64Decode } from "../../lib/base64";
import type { TrackedStatus } from "../../pipeline/status";
import { COMMUNICATION_TAG } from "./parts";
import { own } from "../../lib/own";

const PostmarkRecord = z
  .object({
    RecordType: z.string(),
    MessageID: z.string().min(1),
    Metadata: z.record(z.string(), z.unknown()).nullish(),
    ID: z.union([z.number(), z.string()]).optional(),
    Type: z.string().optional(),
    Inactive: z.boolean().optional(),
    Description: z.string().optional(),
    OriginalLink: z.string().optional(),
    SuppressSending: z.boolean().optional(),
    SuppressionReason: z.string().nullish(),
    DeliveredAt: z.string().optional(),
    BouncedAt: z.string().optional(),
    ReceivedAt: z.string().optional(),
    ChangedAt: z.string().optional(),
  })
  .loose();
type PostmarkRecord = z.infer<typeof PostmarkRecord>;

/** Bounce types that say the address does not exist; Postmark also deactivates such addresses. */
const HARD = new Set(["HardBounce", "BadEmailAddress", "ManuallyDeactivated"]);
/** Bounce records that are not failures of this message (auto-replies, challenges, tests). */
const NOT_FAILURES = new Set(["AutoResponder", "AddressChange", "OpenRelayTest", "ChallengeVerification", "SubscribeRequest", "UnsubscribeRequest"]);
const SUPPRESSION_REASONS: Record<string, SuppressionReason> = { HardBounce: "bounce", SpamComplaint: "complaint", ManualSuppression: "unsubscribe" };

function toEvent(r: PostmarkRecord, now: Date): ProviderEvent {
  const at = r.DeliveredAt ?? r.BouncedAt ?? r.ReceivedAt ?? r.ChangedAt;
  const occurredAt = at && !Number.isNaN(Date.parse(at)) ? new Date(at) : now;
  const communicationId = r.Metadata?.[COMMUNICATION_TAG];
  const base = {
    communicationId: typeof communicationId === "string" ? communicationId : null,
    providerMessageId: r.MessageID,
    name: r.RecordType,
    occurredAt,
    // Bounces have their own id; other records are one per message, type and moment.
    dedupeKey: `postmark:${r.MessageID}:${r.RecordType}:${r.ID ?? at ?? ""}`,
    detail: { ...(r.Type ? { type: r.Type } : {}), ...(r.OriginalLink ? { url: r.OriginalLink } : {}) },
  };
  const to = (status: TrackedStatus | null, extra: Partial<ProviderEvent> = {}): ProviderEvent => ({ ...base, status, ...extra });
  switch (r.RecordType) {
    case "Delivery":
      return to("delivered");
    case "Open":
      return to("opened");
    case "Click":
      return to("clicked");
    case "Bounce": {
      if (NOT_FAILURES.has(r.Type ?? "")) return to(null);
      const error = `bounced: ${r.Type ?? "bounce"}${r.Description ? ` (${r.Description})` : ""}`;
      return HARD.has(r.Type ?? "") || r.Inactive
        ? to("bounced", { error, suppress: { reason: "bounce", detail: r.Type } })
        : to("bounced", { error });
    }
    case "SpamComplaint":
      return to(null, { suppress: { reason: "complaint", detail: "spam complaint" } });
    case "SubscriptionChange": {
      const reason = r.SuppressSending ? (own(SUPPRESSION_REASONS, r.SuppressionReason ?? "") ?? "unsubscribe") : undefined;
      return to(null, reason ? { suppress: { reason, detail: r.SuppressionReason ?? "suppressed in Postmark" } } : {});
    }
    default:
      return to(null);
  }
}

export const postmarkWebhook: WebhookHandler<{ webhookUsername?: string; webhookPassword?: string }, unknown> = {
  async verify(request, credentials): Promise<Verification> {
    if (!credentials.webhookUsername || !credentials.webhookPassword) {
      return { ok: false, reason: "no webhookUsername and webhookPassword are configured for this provider" };
    }
    const header = request.headers.get("authorization") ?? "";
    if (!/^basic /i.test(header)) return { ok: false, reason: "missing Basic credentials" };
    let given: string;
    try {
      given = new TextDecoder().decode(base64Decode(header.slice(6).trim()));
    } catch {
      return { ok: false, reason: "malformed Basic credentials" };
    }
    return constantTimeEqual(given, `${credentials.webhookUsername}:${credentials.webhookPassword}`)
      ? { ok: true }
      : { ok: false, reason: "wrong Basic credentials" };
  },
  parse(request) {
    return [toEvent(PostmarkRecord.parse(JSON.parse(request.rawBody)), request.now)];
  },
};
