/**
 * WhatsApp Cloud API webhooks. One callback URL receives everything for the business account:
 * message statuses (sent → delivered → read, or failed, each carrying back the
 * `biz_opaque_callback_data` we sent) and the messages customers send, which
 * meta-whatsapp-inbound.ts reads for conversations. Signed with `X-Hub-Signature-256`.
 */
import { z } from "zod";
import type { ProviderEvent, WebhookHandler } from "../types";
import type { TrackedStatus } from "../../pipeline/status";
import { hubChallenge, verifyHubSignature } from "./meta-graph";
import { own } from "../../lib/own";

/** 131047 is the Cloud API's code for a free-text send outside the window; 470 the On-Premises API's. */
export const WINDOW_CODES = new Set([131047, 470]);
export const OUTSIDE_WINDOW =
  "outside WhatsApp's 24-hour window: send an approved template instead (metadata.whatsappTemplate = {name, language, components?}); " +
  "free text is only allowed within 24 hours of the recipient's last message";

const StatusError = z.object({ code: z.number(), title: z.string().optional(), error_data: z.object({ details: z.string() }).partial().optional() }).loose();
const Status = z
  .object({
    id: z.string().min(1),
    status: z.string().min(1),
    // Unix seconds; bounded so a hostile value cannot become an invalid date.
    timestamp: z.string().regex(/^\d{1,11}$/),
    biz_opaque_callback_data: z.string().optional(),
    errors: z.array(StatusError).optional(),
    pricing: z.object({ category: z.string().optional() }).loose().optional(),
  })
  .loose();
const Message = z
  .object({
    from: z.string().min(1),
    type: z.string(),
    text: z.object({ body: z.string() }).optional(),
    button: z.object({ text: z.string() }).loose().optional(),
  })
  .loose();

/**
 * The Cloud API's webhook body around one `change` schema: Meta batches changes by entry (one per
 * business account). meta-whatsapp-inbound.ts reads the same bodies for the messages.
 */
export const cloudApiBody = <C extends z.ZodRawShape>(change: C) =>
  z.object({ object: z.literal("whatsapp_business_account"), entry: z.array(z.object({ changes: z.array(z.object(change)) })) });

/** Every change's `value` in a body, in order, read with a schema made by `cloudApiBody`. */
export const cloudApiValues = <V>(body: z.ZodType<{ entry: { changes: { value: V }[] }[] }>, rawBody: string): V[] =>
  body.parse(JSON.parse(rawBody)).entry.flatMap((e) => e.changes.map((c) => c.value));

const Payload = cloudApiBody({
  field: z.string(),
  value: z
    .object({
      metadata: z.object({ display_phone_number: z.string() }).loose().optional(),
      statuses: z.array(Status).optional(),
      messages: z.array(Message).optional(),
    })
    .loose(),
});

const STATUS: Record<string, TrackedStatus | null> = {
  sent: "sent",
  delivered: "delivered",
  read: "opened",
  played: "opened", // voice messages
  failed: "failed",
};

// Ours are UUIDs; another sender on the same number may put anything there, and then the wamid matches.
const OUR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Nothing here suppresses: 131026 (undeliverable) also covers an outdated app or unaccepted terms,
// and 131050 is a marketing-only opt-out, so neither says the number must never be messaged.
function toEvent(s: z.infer<typeof Status>): ProviderEvent {
  const status = own(STATUS, s.status) ?? null;
  const e = s.errors?.[0];
  const error =
    status !== "failed" ? undefined : e && WINDOW_CODES.has(e.code) ? `${OUTSIDE_WINDOW} (error ${e.code})` : `WhatsApp reported failed${e ? ` (error ${e.code}${e.title ? `: ${e.title}` : ""})` : ""}`;
  return {
    communicationId: s.biz_opaque_callback_data && OUR_ID.test(s.biz_opaque_callback_data) ? s.biz_opaque_callback_data : null,
    providerMessageId: s.id,
    status,
    name: s.status,
    occurredAt: new Date(Number(s.timestamp) * 1000),
    dedupeKey: `meta_whatsapp:${s.id}:${s.status}`,
    ...(error ? { error } : {}),
    // Never the recipient's number (`recipient_id`): only what explains the event.
    detail: { ...(e ? { errorCode: e.code, ...(e.title ? { errorTitle: e.title } : {}) } : {}), ...(s.pricing?.category ? { pricingCategory: s.pricing.category } : {}) },
  };
}


export const metaWhatsappWebhook: WebhookHandler<{ appSecret?: string }, { webhookVerifyToken?: string }> = {
  verify: (request, credentials) => verifyHubSignature(request, credentials.appSecret),
  challenge: (query, _credentials, settings) => hubChallenge(query, settings.webhookVerifyToken),
  parse: (request) => cloudApiValues(Payload, request.rawBody).flatMap((v) => (v.statuses ?? []).map(toEvent)),
};
