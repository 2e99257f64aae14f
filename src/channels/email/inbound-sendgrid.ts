/**
 * SendGrid Inbound Parse: mail to a parse hostname is posted as multipart/form-data to the URL
 * set beside it. SendGrid signs nothing on these posts, so the URL itself carries the proof: a
 * per-config secret as the last path segment (`/webhooks/inbound/sendgrid/<configId>/<secret>`,
 * the config's `inboundParseSecret`), compared in constant time. Nothing in the post is fresh per
 * delivery, so there is no replay window; a re-post carries the same Message-ID, stored once.
 * Both Parse modes are read: the default (fields `from`, `to`, `text`, `headers`, `envelope`,
 * `attachment-info`, files `attachment1…`) and "POST the raw, full MIME message" (field `email`).
 */
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler, InboundRequest } from "../inbound/types";
import { formOf } from "../inbound/types";
import { constantTimeEqual } from "../../lib/crypto";
import { answered, fromParsedMime, headerOf, mailbox, mailboxes, mediaOf, messageIds, parseMime, replyTokenOf, trimQuoted, type Envelope } from "./inbound-email";
import { z } from "zod";

const EnvelopeJson = z.object({ from: z.string().optional(), to: z.array(z.string()).default([]) }).loose();
const AttachmentInfo = z.record(z.string(), z.object({ filename: z.string().optional(), type: z.string().optional() }).loose());

const field = (form: FormData, name: string) => {
  const v = form.get(name);
  return typeof v === "string" ? v : undefined;
};

function envelopeOf(form: FormData): Envelope | undefined {
  const raw = field(form, "envelope");
  if (!raw) return undefined;
  const e = EnvelopeJson.parse(JSON.parse(raw));
  return { from: e.from, to: e.to };
}

export async function parseSendgridInbound(request: InboundRequest, configId: string): Promise<InboundMessage> {
  const form = await formOf(request);
  const envelope = envelopeOf(form);
  const raw = field(form, "email");
  if (raw !== undefined) return fromParsedMime(await parseMime(raw), configId, request.now, envelope);

  const headers = field(form, "headers") ?? "";
  const from = mailbox(field(form, "from")) ?? envelope?.from?.toLowerCase();
  const recipients = [...(envelope?.to ?? []), ...mailboxes(field(form, "to"), field(form, "cc"))];
  if (!from || !recipients[0]) throw new Error("not an Inbound Parse post: no from or to");
  const info = AttachmentInfo.parse(JSON.parse(field(form, "attachment-info") ?? "{}"));
  const media = await Promise.all(
    Object.entries(info).flatMap(([name, meta]) => {
      const file = form.get(name);
      return file instanceof File ? [file.bytes().then((b) => mediaOf(b, meta.type ?? file.type, meta.filename ?? file.name))] : [];
    }),
  );
  const text = field(form, "text");
  const subject = field(form, "subject");
  const inReplyTo = answered(headerOf(headers, "In-Reply-To"), headerOf(headers, "References"));
  const replyToken = replyTokenOf(recipients);
  const messageId = messageIds(headerOf(headers, "Message-ID"))[0];
  return {
    channel: "email",
    providerConfigId: configId,
    providerMessageId: messageId ?? `no-message-id:${headerOf(headers, "Date") ?? ""}:${from}:${subject ?? ""}`,
    from,
    to: recipients[0].toLowerCase(),
    ...(text ? { text: trimQuoted(text) } : {}),
    ...(subject !== undefined ? { subject } : {}),
    ...(media.length ? { media } : {}),
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(replyToken ? { replyToken } : {}),
    receivedAt: request.now.toISOString(),
  };
}

export const sendgridInbound: InboundHandler<{ inboundParseSecret?: string }> = {
  async verify(request, credentials) {
    if (!credentials.inboundParseSecret) return { ok: false, reason: "no inboundParseSecret is configured for this provider" };
    if (!request.pathSecret) return { ok: false, reason: "missing the Parse URL's secret (…/<configId>/<inboundParseSecret>)" };
    return constantTimeEqual(request.pathSecret, credentials.inboundParseSecret) ? { ok: true } : { ok: false, reason: "wrong Parse URL secret" };
  },
  parse: async (request, config) => [await parseSendgridInbound(request, config.id)],
  pathSecret: true,
  answer: "ok",
};
