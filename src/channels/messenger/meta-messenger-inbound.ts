/**
 * Messages people send to a Facebook Page (Messenger Platform, `object: "page"`): text, a quick
 * reply's `payload`, a postback button, attachments (Meta gives a URL on its CDN with the type
 * only). They come to the app's one callback URL beside delivery receipts, signed with
 * `X-Hub-Signature-256`; the page's own echoes (`is_echo`) are not inbound and are skipped.
 */
import { z } from "zod";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler } from "../inbound/types";
import { verifyHubSignature } from "../whatsapp/meta-graph";

const ATTACHMENT_TYPES: Record<string, string> = { image: "image/*", audio: "audio/*", video: "video/*", file: "application/octet-stream" };

const Event = z
  .object({
    sender: z.object({ id: z.string().min(1) }),
    recipient: z.object({ id: z.string().min(1) }),
    timestamp: z.number().min(0).max(4_102_444_800_000),
    message: z
      .object({
        mid: z.string().min(1),
        is_echo: z.boolean().optional(),
        text: z.string().optional(),
        quick_reply: z.object({ payload: z.string() }).optional(),
        reply_to: z.object({ mid: z.string() }).loose().optional(),
        attachments: z.array(z.object({ type: z.string(), payload: z.object({ url: z.string().optional() }).loose().nullish() }).loose()).optional(),
      })
      .loose()
      .optional(),
    postback: z.object({ mid: z.string().optional(), title: z.string(), payload: z.string().optional() }).loose().optional(),
  })
  .loose();
const Payload = z.object({ object: z.literal("page"), entry: z.array(z.object({ messaging: z.array(z.object({}).loose()).optional() }).loose()) });

function toInbound(raw: unknown, configId: string): InboundMessage[] {
  // Deliveries, reads and opt-ins share the array: only messages and postbacks are replies.
  const parsed = Event.safeParse(raw);
  if (!parsed.success) return [];
  const e = parsed.data;
  const base = { channel: "messenger" as const, providerConfigId: configId, from: e.sender.id, to: e.recipient.id, receivedAt: new Date(e.timestamp).toISOString() };
  if (e.message && !e.message.is_echo) {
    const m = e.message;
    const media = (m.attachments ?? [])
      .filter((a) => a.payload?.url)
      .map((a) => ({ contentType: ATTACHMENT_TYPES[a.type] ?? "application/octet-stream", size: 0, url: a.payload!.url! }));
    return [
      {
        ...base,
        providerMessageId: m.mid,
        ...(m.text !== undefined ? { text: m.text } : {}),
        ...(media.length ? { media } : {}),
        ...(m.quick_reply ? { button: { payload: m.quick_reply.payload, text: m.text ?? m.quick_reply.payload } } : {}),
        ...(m.reply_to ? { inReplyTo: m.reply_to.mid } : {}),
      },
    ];
  }
  if (e.postback) {
    return [
      {
        ...base,
        providerMessageId: e.postback.mid ?? `postback:${e.sender.id}:${e.timestamp}`,
        text: e.postback.title,
        button: { text: e.postback.title, ...(e.postback.payload ? { payload: e.postback.payload } : {}) },
      },
    ];
  }
  return [];
}

export function parseMetaMessengerInbound(rawBody: string, configId: string): InboundMessage[] {
  return Payload.parse(JSON.parse(rawBody)).entry.flatMap((entry) => (entry.messaging ?? []).flatMap((e) => toInbound(e, configId)));
}

export const metaMessengerInbound: InboundHandler<{ appSecret?: string }> = {
  verify: (request, credentials) => verifyHubSignature(request, credentials.appSecret),
  parse: async (request, config) => parseMetaMessengerInbound(request.rawBody, config.id),
  answer: "ok",
};
