/**
 * Resend (`POST /emails`, Bearer key, JSON). Our ids travel as `tags`, which Resend returns in
 * every webhook's `data.tags`. The communication id is also the `Idempotency-Key`: a retry after
 * a timeout that Resend did in fact accept returns the first answer instead of a second email.
 * Errors carry a `name` that says more than the status: of the 429s only `rate_limit_exceeded`
 * clears in seconds; a spent daily or monthly quota will not clear on a retry.
 */
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { bodies, COMMUNICATION_TAG, mailbox, readJson, TENANT_TAG } from "./parts";
import { resendWebhook } from "./resend-webhook";

const credentials = z.object({
  apiKey: z.string().min(1),
  /** The webhook's signing secret (`whsec_…`, Svix); needed to accept webhooks. */
  webhookSecret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, "must be the whsec_… signing secret").optional(),
});
const settings = baseSettings.extend({
  from: z.email(),
  replyTo: z.email().optional(),
});
type Settings = z.infer<typeof settings>;

export function resendRequestBody(message: OutboundMessage, s: Settings) {
  const { html, text } = bodies(message);
  // Resend fetches a URL itself (`path`); everything else arrives here as content.
  const attachments = message.attachments
    .filter((a) => a.content || a.fileUrl)
    .map((a) => ({
      filename: a.filename,
      ...(a.content ? { content: a.content } : { path: a.fileUrl }),
      ...(a.mimeType ? { content_type: a.mimeType } : {}),
    }));
  return {
    from: mailbox(s.from, s.fromName),
    to: [mailbox(message.to, message.recipientName)],
    // Required by Resend, unlike the other providers.
    subject: message.subject ?? "",
    ...(html ? { html } : {}),
    ...(text ? { text } : {}),
    ...((message.replyTo ?? s.replyTo) ? { reply_to: message.replyTo ?? s.replyTo } : {}),
    ...(message.headers && Object.keys(message.headers).length ? { headers: message.headers } : {}),
    ...(attachments.length ? { attachments } : {}),
    tags: [
      { name: COMMUNICATION_TAG, value: message.communicationId },
      { name: TENANT_TAG, value: message.tenantId },
    ],
  };
}

// https://resend.com/docs/api-reference/errors — names whose status alone would mislead.
const NAME_KINDS: Record<string, FailureKind> = {
  rate_limit_exceeded: "retryable",
  concurrent_idempotent_requests: "retryable",
  daily_quota_exceeded: "provider",
  monthly_quota_exceeded: "provider",
  invalid_from_address: "provider",
  invalid_api_key: "provider",
  restricted_api_key: "provider",
  missing_api_key: "provider",
};

export const resend = defineProvider({
  kind: "resend",
  channels: ["email"],
  credentials,
  settings,
  webhook: resendWebhook,
  idempotencyKey: true,
  reportsDelivery: (_s, c) => !!c.webhookSecret,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const res = await fetchWithTimeout(
        joinBase(s.baseUrl ?? "https://api.resend.com", "/emails"),
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${c.apiKey}`,
            "content-type": "application/json",
            "idempotency-key": message.communicationId,
          },
          body: JSON.stringify(resendRequestBody(message, s)),
        },
        s.timeoutMs,
      );
      const body = await readJson<{ id?: string; name?: string; message?: string }>(res);
      // The key is our communication id, so "used with a different payload" means an earlier
      // attempt of this very message was accepted (and its settings changed since): it went out.
      if (res.ok || body?.name === "invalid_idempotent_request") {
        return { ok: true, providerMessageId: body?.id ?? `resend-${message.communicationId}`, httpStatus: res.status };
      }
      const kind = (body?.name && NAME_KINDS[body.name]) || classifyHttpStatus(res.status);
      return {
        ok: false,
        failure: kind,
        reason: `Resend answered ${res.status}${body?.name ? ` ${body.name}` : ""}${body?.message ? `: ${body.message}` : ""}`,
        httpStatus: res.status,
        ...(kind === "retryable" ? { retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")) } : {}),
      };
    },
  }),
});
