/**
 * Messages customers send to a Twilio number or sender: SMS/MMS, WhatsApp (`whatsapp:` addresses)
 * and Messenger (`messenger:` addresses) all arrive at the sender's "A message comes in" URL as
 * one signed form post, verified exactly as status callbacks are (`X-Twilio-Signature`). Twilio
 * signs no timestamp or nonce: a retry or a replay carries the same `MessageSid`, which
 * `receiveInbound` stores once. Media is named by `MediaUrl<n>`, which receiveInbound fetches
 * with the account's credentials into R2 (src/conversations/media.ts); Twilio does not say its
 * size, so it is given as 0 until fetched.
 */
import { z } from "zod";
import type { Channel } from "../../domain";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler } from "../inbound/types";
import { twilioWebhook } from "./twilio-webhook";

const Form = z
  .object({
    MessageSid: z.string().min(1),
    From: z.string().min(1),
    To: z.string().min(1),
    Body: z.string().default(""),
    NumMedia: z.string().regex(/^\d{1,2}$/).default("0"),
    ButtonText: z.string().optional(),
    ButtonPayload: z.string().optional(),
    // WhatsApp: the message this one answers (a reply swiped on, or a template's button).
    OriginalRepliedMessageSid: z.string().optional(),
  })
  .loose();

const CHANNEL_PREFIXES: [string, Channel][] = [
  ["whatsapp:", "whatsapp"],
  ["messenger:", "messenger"],
];

const channelOf = (from: string): Channel => CHANNEL_PREFIXES.find(([prefix]) => from.startsWith(prefix))?.[1] ?? "sms";
const bare = (address: string) => address.replace(/^(whatsapp|messenger):/, "");

export function parseTwilioInbound(rawBody: string, configId: string, now: Date): InboundMessage {
  const params = new URLSearchParams(rawBody);
  const form = Form.parse(Object.fromEntries(params));
  const media = Array.from({ length: Number(form.NumMedia) }, (_, i) => ({ url: params.get(`MediaUrl${i}`), contentType: params.get(`MediaContentType${i}`) }))
    .filter((m): m is { url: string; contentType: string } => !!m.url && !!m.contentType)
    .map((m) => ({ url: m.url, contentType: m.contentType, size: 0 }));
  return {
    channel: channelOf(form.From),
    providerConfigId: configId,
    providerMessageId: form.MessageSid,
    from: bare(form.From),
    to: bare(form.To),
    ...(form.Body ? { text: form.Body } : {}),
    ...(media.length ? { media } : {}),
    ...(form.ButtonText !== undefined ? { button: { text: form.ButtonText, ...(form.ButtonPayload ? { payload: form.ButtonPayload } : {}) } } : {}),
    ...(form.OriginalRepliedMessageSid ? { inReplyTo: form.OriginalRepliedMessageSid } : {}),
    receivedAt: now.toISOString(),
  };
}

export const twilioInbound: InboundHandler<{ authToken: string }> = {
  verify: (request, credentials) => twilioWebhook.verify(request, credentials, undefined),
  parse: async (request, config) => [parseTwilioInbound(request.rawBody, config.id, request.now)],
  answer: "twiml",
};
