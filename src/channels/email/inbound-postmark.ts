/**
 * Postmark inbound: mail to the server's inbound address (or a domain forwarded to it) is posted
 * as JSON to the server's inbound webhook URL. Postmark signs nothing; as its docs advise, the URL
 * carries HTTP Basic credentials (`https://user:pass@…/webhooks/inbound/postmark/<configId>`),
 * checked as for its delivery webhooks (the config's `webhookUsername`/`webhookPassword`). A
 * re-post carries the same Message-ID and is stored once. `MailboxHash` is the `+hash` of the
 * address, which for `reply+<token>@…` is our reply token.
 */
import { z } from "zod";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler } from "../inbound/types";
import { base64Decode } from "../../lib/base64";
import { postmarkWebhook } from "./postmark-webhook";
import { answered, mediaOf, messageIds, replyTokenOf, trimQuoted } from "./inbound-email";

const Full = z.object({ Email: z.string(), MailboxHash: z.string().optional() }).loose();
const Inbound = z
  .object({
    MessageID: z.string().min(1),
    FromFull: Full,
    ToFull: z.array(Full).default([]),
    CcFull: z.array(Full).default([]),
    OriginalRecipient: z.string().optional(),
    Subject: z.string().optional(),
    TextBody: z.string().optional(),
    StrippedTextReply: z.string().optional(),
    Headers: z.array(z.object({ Name: z.string(), Value: z.string() })).default([]),
    Attachments: z.array(z.object({ Name: z.string().optional(), Content: z.string(), ContentType: z.string().optional() }).loose()).default([]),
  })
  .loose();

export function parsePostmarkInbound(rawBody: string, configId: string, now: Date): InboundMessage {
  const m = Inbound.parse(JSON.parse(rawBody));
  const header = (name: string) => m.Headers.find((h) => h.Name.toLowerCase() === name.toLowerCase())?.Value;
  const recipients = [...(m.OriginalRecipient ? [m.OriginalRecipient] : []), ...m.ToFull.map((t) => t.Email), ...m.CcFull.map((t) => t.Email)].map((a) => a.toLowerCase());
  if (!recipients[0]) throw new Error("not a Postmark inbound message: no recipient");
  const text = m.StrippedTextReply || (m.TextBody ? trimQuoted(m.TextBody) : undefined);
  const media = m.Attachments.map((a) => mediaOf(base64Decode(a.Content), a.ContentType, a.Name));
  const inReplyTo = answered(header("In-Reply-To"), header("References"));
  const replyToken = replyTokenOf(recipients);
  return {
    channel: "email",
    providerConfigId: configId,
    // The RFC Message-ID threads; Postmark's own id stands in when the mail had none.
    providerMessageId: messageIds(header("Message-ID"))[0] ?? m.MessageID,
    from: m.FromFull.Email.toLowerCase(),
    to: recipients[0],
    ...(text ? { text } : {}),
    ...(m.Subject !== undefined ? { subject: m.Subject } : {}),
    ...(media.length ? { media } : {}),
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(replyToken ? { replyToken } : {}),
    receivedAt: now.toISOString(),
  };
}

export const postmarkInbound: InboundHandler<{ webhookUsername?: string; webhookPassword?: string }> = {
  verify: (request, credentials) => postmarkWebhook.verify(request, credentials, undefined),
  parse: async (request, config) => [parsePostmarkInbound(request.rawBody, config.id, request.now)],
  answer: "ok",
};
