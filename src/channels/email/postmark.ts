/**
 * Postmark (`POST /email`, `X-Postmark-Server-Token`, PascalCase JSON). API-level errors arrive
 * as HTTP 422 with a Postmark `ErrorCode`, which says more than the status: 406 is a recipient
 * Postmark has deactivated (bounced, complained or unsubscribed), 400/401 an unconfirmed sender.
 * Our ids travel in `Metadata`, which Postmark returns on every webhook.
 */
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { bodies, COMMUNICATION_TAG, inlineAttachments, mailbox, readJson, TENANT_TAG } from "./parts";
import { postmarkWebhook } from "./postmark-webhook";

const credentials = z.object({
  serverToken: z.string().min(1),
  /** Postmark does not sign webhooks: give it a webhook URL with these as `https://user:pass@…`. */
  webhookUsername: z.string().min(1).optional(),
  webhookPassword: z.string().min(16, "use at least 16 characters").optional(),
});
const settings = baseSettings.extend({
  from: z.email(),
  replyTo: z.email().optional(),
  /** `outbound` (transactional) or the id of a broadcast stream. */
  messageStream: z.string().min(1).default("outbound"),
});
type Settings = z.infer<typeof settings>;

export function postmarkRequestBody(message: OutboundMessage, s: Settings) {
  const { html, text } = bodies(message);
  const attachments = inlineAttachments(message).map((a) => ({
    Name: a.filename,
    Content: a.content,
    ContentType: a.mimeType ?? "application/octet-stream",
  }));
  const headers = Object.entries(message.headers ?? {}).map(([Name, Value]) => ({ Name, Value }));
  return {
    From: mailbox(s.from, s.fromName),
    To: mailbox(message.to, message.recipientName),
    ...(message.subject ? { Subject: message.subject } : {}),
    ...(html ? { HtmlBody: html } : {}),
    ...(text ? { TextBody: text } : {}),
    ...((message.replyTo ?? s.replyTo) ? { ReplyTo: message.replyTo ?? s.replyTo } : {}),
    ...(headers.length ? { Headers: headers } : {}),
    Metadata: { [COMMUNICATION_TAG]: message.communicationId, [TENANT_TAG]: message.tenantId },
    MessageStream: s.messageStream,
    // Herald tracks (or nobody does): Postmark must not rewrite links or add its own pixel.
    ...(message.tracking && message.tracking !== "provider" ? { TrackOpens: false, TrackLinks: "None" } : {}),
    ...(attachments.length ? { Attachments: attachments } : {}),
  };
}

// https://postmarkapp.com/developer/api/overview#error-codes — codes that mean this server or
// account cannot send (fail over) or that Postmark is throttling; the rest reject the message.
const CODE_KINDS: Record<number, FailureKind> = {
  10: "provider", // bad or missing server token
  400: "provider", // sender signature not found
  401: "provider", // sender signature not confirmed
  405: "provider", // not allowed to send (account)
  412: "provider", // account pending approval
  413: "provider", // account may not send
  429: "retryable", // rate limited
};

export const postmark = defineProvider({
  kind: "postmark",
  channels: ["email"],
  credentials,
  settings,
  webhook: postmarkWebhook,
  reportsDelivery: (_s, c) => !!c.webhookUsername && !!c.webhookPassword,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const res = await fetchWithTimeout(
        joinBase(s.baseUrl ?? "https://api.postmarkapp.com", "/email"),
        {
          method: "POST",
          headers: { "x-postmark-server-token": c.serverToken, accept: "application/json", "content-type": "application/json" },
          body: JSON.stringify(postmarkRequestBody(message, s)),
        },
        s.timeoutMs,
      );
      const body = await readJson<{ MessageID?: string; ErrorCode?: number; Message?: string }>(res);
      const code = body?.ErrorCode ?? 0;
      if (res.ok && code === 0) {
        return { ok: true, providerMessageId: body?.MessageID ?? `postmark-${message.communicationId}`, httpStatus: res.status };
      }
      return {
        ok: false,
        failure: CODE_KINDS[code] ?? (res.ok ? "permanent" : classifyHttpStatus(res.status)),
        reason: `Postmark answered ${res.status}${code ? ` (error ${code})` : ""}${body?.Message ? `: ${body.Message}` : ""}`,
        httpStatus: res.status,
        retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")),
      };
    },
  }),
});
