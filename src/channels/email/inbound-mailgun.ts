/**
 * Mailgun routes: a route's `forward("<url>")` action posts the parsed message (multipart when it
 * has attachments, else a form) with `recipient`, `sender`, `from`, `subject`, `body-plain`,
 * `stripped-text`, `Message-Id`, `In-Reply-To`, `References`, files `attachment-1…`, and the
 * signature fields `timestamp`, `token`, `signature` = hex(HMAC-SHA256(webhook signing key,
 * timestamp + token)), as for its event webhooks. The timestamp must be within the window and the
 * token is accepted once. Mailgun reads 406 as "rejected, do not retry", which is what a replay
 * (or a body that is not a route post) gets; any other failure is retried by Mailgun.
 */
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler, InboundRequest } from "../inbound/types";
import { formOf, textFields } from "../inbound/types";
import { constantTimeEqual } from "../../lib/crypto";
import { unixSeconds, withinWindow } from "../webhook-time";
import { mailgunSignature, REPLAY_WINDOW_SECONDS } from "./mailgun-webhook";
import { answered, mailbox, mailboxes, mediaOf, messageIds, replyTokenOf, trimQuoted } from "./inbound-email";

async function signed(request: InboundRequest) {
  const f = textFields(await formOf(request));
  return { timestamp: f.timestamp, token: f.token, signature: f.signature };
}

export async function parseMailgunInbound(request: InboundRequest, configId: string): Promise<InboundMessage> {
  const form = await formOf(request);
  const f = textFields(form);
  const from = mailbox(f.from) ?? mailbox(f.sender);
  const recipients = [...mailboxes(f.recipient), ...mailboxes(f.To, f.Cc)];
  if (!from || !recipients[0]) throw new Error("not a Mailgun route post: no from or recipient");
  const count = Math.min(Number(/^\d{1,3}$/.test(f["attachment-count"] ?? "") ? f["attachment-count"] : 0), 100);
  const media = await Promise.all(
    Array.from({ length: count }, (_, i) => form.get(`attachment-${i + 1}`)).flatMap((file) => (file instanceof File ? [file.bytes().then((b) => mediaOf(b, file.type, file.name))] : [])),
  );
  // Mailgun's own reply extraction first; the full body, trimmed here, when it found none.
  const text = f["stripped-text"] || (f["body-plain"] ? trimQuoted(f["body-plain"]) : undefined);
  const messageId = messageIds(f["Message-Id"])[0];
  const inReplyTo = answered(f["In-Reply-To"], f.References);
  const replyToken = replyTokenOf(recipients);
  return {
    channel: "email",
    providerConfigId: configId,
    providerMessageId: messageId ?? `mailgun-token:${f.token}`,
    from,
    to: recipients[0],
    ...(text ? { text } : {}),
    ...(f.subject !== undefined ? { subject: f.subject } : {}),
    ...(media.length ? { media } : {}),
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(replyToken ? { replyToken } : {}),
    receivedAt: request.now.toISOString(),
  };
}

export const mailgunInbound: InboundHandler<{ webhookSigningKey?: string }> = {
  async verify(request, credentials) {
    if (!credentials.webhookSigningKey) return { ok: false, reason: "no webhookSigningKey is configured for this provider" };
    let s;
    try {
      s = await signed(request);
    } catch {
      return { ok: false, reason: "missing signature: the body is not a form" };
    }
    if (!s.timestamp || !s.token || !s.signature) return { ok: false, reason: "missing timestamp, token or signature" };
    const at = unixSeconds(s.timestamp);
    if (at === undefined || !withinWindow(at, request.now, REPLAY_WINDOW_SECONDS)) return { ok: false, reason: "timestamp outside the replay window" };
    const expected = await mailgunSignature(credentials.webhookSigningKey, s.timestamp, s.token);
    return constantTimeEqual(s.signature.toLowerCase(), expected) ? { ok: true } : { ok: false, reason: "bad signature" };
  },
  async replayKey(request) {
    const s = await signed(request);
    return { nonce: s.token!, expiresAt: new Date((Number(s.timestamp) + REPLAY_WINDOW_SECONDS) * 1000) };
  },
  parse: async (request, config) => [await parseMailgunInbound(request, config.id)],
  answer: "ok",
  replayStatus: 406,
};
