/**
 * SES events, published by a configuration set to an SNS topic that POSTs to our webhook URL
 * (raw message delivery off: the SNS envelope and its signature are what we verify). A message
 * is accepted only when SNS signed it and it comes from the config's own `snsTopicArn` — anyone
 * can make SNS sign messages of their own topic. The subscription handshake happens here too: a
 * verified SubscriptionConfirmation of that topic is confirmed by fetching its SubscribeURL.
 * SNS keeps a message's MessageId (and its signature) across retries: it is the replay key.
 */
import { z } from "zod";
import type { ProviderEvent, ReplayKey, Verification, WebhookHandler } from "../types";
import type { TrackedStatus } from "../../pipeline/status";
import { COMMUNICATION_TAG } from "./parts";
import { confirmSubscription, SnsMessage, verifySnsSignature } from "./sns";

/** SNS retries an HTTP/S delivery for at most an hour; five minutes more for clock skew. */
export const REPLAY_WINDOW_SECONDS = 65 * 60;

const at = z.object({ timestamp: z.string().optional() }).loose();
const SesEvent = z
  .object({
    // Configuration-set events say `eventType`; legacy identity notifications `notificationType`.
    eventType: z.string().optional(),
    notificationType: z.string().optional(),
    mail: z.object({ messageId: z.string().min(1), tags: z.record(z.string(), z.array(z.string())).optional() }).loose(),
    bounce: at.extend({ bounceType: z.string(), bounceSubType: z.string().optional() }).optional(),
    complaint: at.extend({ complaintFeedbackType: z.string().optional() }).optional(),
    delivery: at.optional(),
    open: at.optional(),
    click: at.extend({ link: z.string().optional() }).optional(),
    reject: z.object({ reason: z.string().optional() }).loose().optional(),
    failure: z.object({ errorMessage: z.string().optional() }).loose().optional(),
    deliveryDelay: at.extend({ delayType: z.string().optional() }).optional(),
  })
  .loose();
type SesEvent = z.infer<typeof SesEvent>;

function toEvent(e: SesEvent, sns: SnsMessage): ProviderEvent {
  const type = e.eventType ?? e.notificationType ?? "unknown";
  const stamp = Date.parse((e.bounce ?? e.complaint ?? e.delivery ?? e.open ?? e.click ?? e.deliveryDelay)?.timestamp ?? "");
  const base = {
    communicationId: e.mail.tags?.[COMMUNICATION_TAG]?.[0] ?? null,
    providerMessageId: e.mail.messageId,
    name: type,
    // verify() has checked the SNS Timestamp.
    occurredAt: new Date(Number.isNaN(stamp) ? Date.parse(sns.Timestamp) : stamp),
    // One SES event per SNS message, and SNS keeps the MessageId across its retries.
    dedupeKey: `ses:${sns.MessageId}`,
    detail: {
      ...(e.bounce ? { bounceType: e.bounce.bounceType, ...(e.bounce.bounceSubType ? { bounceSubType: e.bounce.bounceSubType } : {}) } : {}),
      ...(e.complaint?.complaintFeedbackType ? { feedbackType: e.complaint.complaintFeedbackType } : {}),
      ...(e.deliveryDelay?.delayType ? { delayType: e.deliveryDelay.delayType } : {}),
      ...(e.click?.link ? { url: e.click.link } : {}),
    },
  };
  const to = (status: TrackedStatus | null, extra: Partial<ProviderEvent> = {}): ProviderEvent => ({ ...base, status, ...extra });
  switch (type) {
    case "Send":
      return to("sent");
    case "Delivery":
      return to("delivered");
    case "Open":
      return to("opened");
    case "Click":
      return to("clicked");
    case "Bounce": {
      const b = e.bounce;
      const error = `bounced: ${b ? `${b.bounceType}${b.bounceSubType ? `/${b.bounceSubType}` : ""}` : "bounce"}`;
      // Transient (mailbox full, too large) and Undetermined bounces end this message only.
      return to("bounced", { error, ...(b?.bounceType === "Permanent" ? { suppress: { reason: "bounce", detail: b.bounceSubType ?? b.bounceType } } : {}) });
    }
    case "Complaint":
      return to(null, { suppress: { reason: "complaint", detail: e.complaint?.complaintFeedbackType ?? "spam complaint" } });
    case "Reject":
      return to("failed", { error: `rejected by SES: ${e.reject?.reason ?? "no reason given"}` });
    case "Rendering Failure":
      return to("failed", { error: `SES could not render it: ${e.failure?.errorMessage ?? "no reason given"}` });
    default:
      // DeliveryDelay, Subscription: on the timeline, no status change.
      return to(null);
  }
}

export const sesWebhook: WebhookHandler<unknown, { snsTopicArn?: string }> = {
  async verify(request, _credentials, settings): Promise<Verification> {
    if (!settings.snsTopicArn) return { ok: false, reason: "no snsTopicArn is configured for this provider" };
    let message: SnsMessage;
    try {
      message = SnsMessage.parse(JSON.parse(request.rawBody));
    } catch {
      return { ok: false, reason: "missing SNS message signature" };
    }
    const header = request.headers.get("x-amz-sns-message-type");
    if (header && header !== message.Type) return { ok: false, reason: "message type header and body disagree" };
    if (message.TopicArn !== settings.snsTopicArn) return { ok: false, reason: "message from another SNS topic" };
    const age = (request.now.getTime() - Date.parse(message.Timestamp)) / 1000;
    if (!Number.isFinite(age) || Math.abs(age) > REPLAY_WINDOW_SECONDS) return { ok: false, reason: "timestamp outside the replay window" };
    const signed = await verifySnsSignature(message);
    if (!signed.ok || message.Type !== "SubscriptionConfirmation") return signed;
    return confirmSubscription(message);
  },
  async replayKey(request): Promise<ReplayKey> {
    const message = SnsMessage.parse(JSON.parse(request.rawBody));
    return { nonce: message.MessageId, expiresAt: new Date(Date.parse(message.Timestamp) + REPLAY_WINDOW_SECONDS * 1000) };
  },
  parse(request) {
    const message = SnsMessage.parse(JSON.parse(request.rawBody));
    // Confirmations carry no SES event (the handshake was done in verify).
    if (message.Type !== "Notification") return [];
    return [toEvent(SesEvent.parse(JSON.parse(message.Message)), message)];
  },
};
