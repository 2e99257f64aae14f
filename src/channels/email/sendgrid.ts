/**
 * SendGrid v3 Mail Send (`POST /v3/mail/send`, Bearer key, JSON). Success is 202 with an empty
 * body; the provider id is the `X-Message-Id` header, and webhook events carry our ids back
 * through `custom_args` (values must be strings).
 */
import { z } from "zod";
import { classifyHttpStatus, baseSettings } from "../settings";
import { defineProvider, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { looksLikeHtml } from "./content";
import { sendgridWebhook } from "./sendgrid-webhook";

const credentials = z.object({
  apiKey: z.string().min(1),
  /** SendGrid cannot sign Inbound Parse posts: this secret, in the Parse URL's path, stands for a signature. */
  inboundParseSecret: z.string().regex(/^[A-Za-z0-9_-]{24,128}$/, "24 to 128 letters, digits, _ or -").optional(),
});
const settings = baseSettings.extend({
  from: z.email(),
  replyTo: z.email().optional(),
  /** base64 SPKI public key for the signed Event Webhook. */
  webhookVerificationKey: z.string().optional(),
});
type Settings = z.infer<typeof settings>;

export function sendgridRequestBody(message: OutboundMessage, s: Settings) {
  const html = looksLikeHtml(message.content);
  // The text alternative of HTML comes derived from the delivery pipeline (src/pipeline/outbound.ts).
  const text = html ? message.text : message.content;
  // SendGrid requires text/plain before text/html when both are present, and no empty values
  // (HTML with no text, e.g. a single image, goes out as text/html alone).
  const content = html
    ? [...(text ? [{ type: "text/plain", value: text }] : []), { type: "text/html", value: message.content }]
    : [{ type: "text/plain", value: text }];
  // The signed reply-to of the tenant's reply domain (conversations) wins over the config's own.
  const replyTo = message.replyTo ?? s.replyTo;
  const attachments = message.attachments
    .filter((a) => a.content)
    .map((a) => ({
      content: a.content!,
      filename: a.filename,
      ...(a.mimeType ? { type: a.mimeType } : {}),
      disposition: "attachment",
    }));
  return {
    personalizations: [
      {
        to: [{ email: message.to, ...(message.recipientName ? { name: message.recipientName } : {}) }],
        custom_args: { herald_communication_id: message.communicationId, herald_tenant_id: message.tenantId },
      },
    ],
    from: { email: s.from, ...(s.fromName ? { name: s.fromName } : {}) },
    ...(replyTo ? { reply_to: { email: replyTo } } : {}),
    ...(message.headers && Object.keys(message.headers).length ? { headers: message.headers } : {}),
    // Omitted, not "", when there is none: the spec gives `subject` minLength 1, and
    // @sendgrid/mail leaves the field out too.
    ...(message.subject ? { subject: message.subject } : {}),
    content,
    ...(attachments.length ? { attachments } : {}),
    // Herald tracks (or nobody does): SendGrid must not rewrite links or add its own pixel.
    ...(message.tracking && message.tracking !== "provider"
      ? { tracking_settings: { click_tracking: { enable: false, enable_text: false }, open_tracking: { enable: false } } }
      : {}),
  };
}

export const sendgrid = defineProvider({
  kind: "sendgrid",
  channels: ["email"],
  credentials,
  settings,
  webhook: sendgridWebhook,
  reportsDelivery: (s) => !!s.webhookVerificationKey,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const res = await fetchWithTimeout(
        joinBase(s.baseUrl ?? "https://api.sendgrid.com", "/v3/mail/send"),
        {
          method: "POST",
          headers: { authorization: `Bearer ${c.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify(sendgridRequestBody(message, s)),
        },
        s.timeoutMs,
      );
      if (res.ok) {
        await res.body?.cancel();
        const id = res.headers.get("x-message-id");
        return { ok: true, providerMessageId: id ?? `sendgrid-${message.communicationId}`, httpStatus: res.status };
      }
      const body = await res.text();
      let reason = `SendGrid answered ${res.status}`;
      try {
        const parsed = JSON.parse(body) as { errors?: { message?: string; field?: string }[] };
        const first = parsed.errors?.[0];
        if (first?.message) reason += `: ${first.message}${first.field ? ` (${first.field})` : ""}`;
      } catch {
        // Non-JSON error bodies (proxies, outages) keep the status-only reason.
      }
      return {
        ok: false,
        failure: classifyHttpStatus(res.status),
        reason,
        httpStatus: res.status,
        retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")),
      };
    },
  }),
});
