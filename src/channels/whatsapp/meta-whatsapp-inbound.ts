/**
 * Messages customers send to a WhatsApp Cloud API number. Meta posts them to the app's one
 * callback URL, beside the statuses (`value.messages[]`), so they are read from the delivery
 * webhook's body (src/api/routes/provider-webhooks.ts) and from `/webhooks/inbound/meta_whatsapp/…`
 * alike, both verified by `X-Hub-Signature-256`. Meta signs no timestamp: a redelivery carries
 * the same `wamid`, which `receiveInbound` stores once.
 *
 * Media: the webhook carries only a media id, `mime_type`, `sha256` (and a document's filename);
 * the bytes are behind `GET /{media-id}` with the access token, for 30 days. What is stored is
 * that reference, `url: "meta-media:<id>"`, with the type; receiveInbound fetches the bytes into R2
 * (src/conversations/media.ts), and the size is known once it has.
 */
import { z } from "zod";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler } from "../inbound/types";
import { verifyHubSignature } from "./meta-graph";
import { cloudApiBody, cloudApiValues } from "./meta-whatsapp-webhook";

const Media = z.object({ id: z.string().min(1), mime_type: z.string().min(1), filename: z.string().optional(), caption: z.string().optional() }).loose();
const Message = z
  .object({
    from: z.string().min(1),
    id: z.string().min(1),
    timestamp: z.string().regex(/^\d{1,11}$/),
    type: z.string(),
    context: z.object({ id: z.string().min(1) }).loose().optional(),
    text: z.object({ body: z.string() }).optional(),
    button: z.object({ text: z.string(), payload: z.string().optional() }).loose().optional(),
    interactive: z
      .object({
        type: z.string(),
        button_reply: z.object({ id: z.string(), title: z.string() }).loose().optional(),
        list_reply: z.object({ id: z.string(), title: z.string() }).loose().optional(),
      })
      .loose()
      .optional(),
    image: Media.optional(),
    document: Media.optional(),
    audio: Media.optional(),
    video: Media.optional(),
    sticker: Media.optional(),
  })
  .loose();
const Payload = cloudApiBody({
  value: z.object({ metadata: z.object({ display_phone_number: z.string() }).loose().optional(), messages: z.array(Message).optional() }).loose(),
});
type Message = z.infer<typeof Message>;

const e164 = (s: string) => `+${s.replace(/\D/g, "")}`;

function toInbound(m: Message, to: string, configId: string): InboundMessage {
  const media = [m.image, m.document, m.audio, m.video, m.sticker]
    .filter((x) => x !== undefined)
    .map((x) => ({ contentType: x.mime_type, size: 0, url: `meta-media:${x.id}`, ...(x.filename ? { filename: x.filename } : {}) }));
  const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
  const button = reply ? { payload: reply.id, text: reply.title } : m.button ? { text: m.button.text, ...(m.button.payload ? { payload: m.button.payload } : {}) } : undefined;
  // The caption is the text of a media message.
  const text = m.text?.body ?? [m.image, m.document, m.video].find((x) => x?.caption)?.caption;
  return {
    channel: "whatsapp",
    providerConfigId: configId,
    providerMessageId: m.id,
    from: e164(m.from),
    to,
    ...(text !== undefined ? { text } : {}),
    ...(media.length ? { media } : {}),
    ...(button ? { button } : {}),
    ...(m.context ? { inReplyTo: m.context.id } : {}),
    receivedAt: new Date(Number(m.timestamp) * 1000).toISOString(),
  };
}

/** Every customer message in a Cloud API webhook body (statuses are left to the delivery handler). */
export function parseMetaWhatsappInbound(rawBody: string, configId: string): InboundMessage[] {
  return cloudApiValues(Payload, rawBody).flatMap((value) =>
    value.metadata ? (value.messages ?? []).map((m) => toInbound(m, e164(value.metadata!.display_phone_number), configId)) : [],
  );
}

export const metaWhatsappInbound: InboundHandler<{ appSecret?: string }> = {
  verify: (request, credentials) => verifyHubSignature(request, credentials.appSecret),
  parse: async (request, config) => parseMetaWhatsappInbound(request.rawBody, config.id),
  answer: "ok",
};
