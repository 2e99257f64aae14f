/**
 * Telegram bot updates: `setWebhook(url, secret_token)` makes Telegram post each update as JSON
 * with `X-Telegram-Bot-Api-Secret-Token: <secret_token>`, which must equal the config's
 * `webhookSecret` (constant-time). Nothing is signed per update: a redelivery carries the same
 * chat and message id, stored once; and each update's `update_id` is accepted once (kept for
 * `UPDATE_ID_HELD_DAYS`), so a captured request posted again with the secret is refused as a
 * replay even if it carries another message. Message ids are per chat, so a message is named
 * `<chat id>:<message id>`, and the message it answers (`reply_to_message`) the same way.
 * Media (the largest photo size, a document, voice, audio, video, sticker) is named
 * `telegram-file:<file_id>` with the type and size Telegram gives; media.ts fetches it into R2
 * with the bot token through `getFile` (media-fetch.ts). The token never goes into the reference.
 */
import { z } from "zod";
import type { Channel } from "../../domain";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler } from "../inbound/types";
import { constantTimeEqual } from "../../lib/crypto";

export const SECRET_HEADER = "x-telegram-bot-api-secret-token";

const File = z.object({ file_id: z.string().min(1), file_size: z.number().int().min(0).optional(), mime_type: z.string().optional(), file_name: z.string().optional() }).loose();
const Message = z
  .object({
    message_id: z.number().int(),
    date: z.number().int().min(0).max(4_102_444_800),
    chat: z.object({ id: z.number().int() }).loose(),
    text: z.string().optional(),
    caption: z.string().optional(),
    reply_to_message: z.object({ message_id: z.number().int() }).loose().optional(),
    photo: z.array(File).optional(),
    document: File.optional(),
    voice: File.optional(),
    audio: File.optional(),
    video: File.optional(),
    // No mime_type: the format follows from the flags (WebP, animated TGS, WebM video).
    sticker: File.extend({ is_animated: z.boolean().optional(), is_video: z.boolean().optional() }).optional(),
  })
  .loose();
const Update = z.object({ update_id: z.number().int(), message: Message.optional(), edited_message: Message.optional() }).loose();

/** Telegram keeps undelivered updates for 24 hours; an update id is held well past that. */
export const UPDATE_ID_HELD_DAYS = 7;

const DEFAULT_TYPES = { photo: "image/jpeg", document: "application/octet-stream", voice: "audio/ogg", audio: "audio/mpeg", video: "video/mp4", sticker: "image/webp" } as const;
const stickerType = (s: { is_animated?: boolean; is_video?: boolean }) => (s.is_video ? "video/webm" : s.is_animated ? "application/x-tgsticker" : undefined);

/** The update's message as an `InboundMessage`, or none (an edit, a member change, a poll…). */
export function parseTelegramInbound(rawBody: string, configId: string, channel: Channel): InboundMessage[] {
  const m = Update.parse(JSON.parse(rawBody)).message;
  if (!m) return [];
  const files = [
    ["photo", m.photo?.at(-1)], // the largest size comes last
    ["document", m.document],
    ["voice", m.voice],
    ["audio", m.audio],
    ["video", m.video],
    ["sticker", m.sticker && { ...m.sticker, mime_type: stickerType(m.sticker) }],
  ] as const;
  const media = files.flatMap(([kind, f]) =>
    f ? [{ contentType: f.mime_type ?? DEFAULT_TYPES[kind], size: f.file_size ?? 0, url: `telegram-file:${f.file_id}`, ...(f.file_name ? { filename: f.file_name } : {}) }] : [],
  );
  const chat = String(m.chat.id);
  const text = m.text ?? m.caption;
  return [
    {
      channel,
      providerConfigId: configId,
      providerMessageId: `${chat}:${m.message_id}`,
      from: chat,
      // The bot that received it: its config.
      to: configId,
      ...(text !== undefined ? { text } : {}),
      ...(media.length ? { media } : {}),
      ...(m.reply_to_message ? { inReplyTo: `${chat}:${m.reply_to_message.message_id}` } : {}),
      receivedAt: new Date(m.date * 1000).toISOString(),
    },
  ];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const telegramInbound: InboundHandler<{ webhookSecret?: string }> = {
  async verify(request, credentials) {
    if (!credentials.webhookSecret) return { ok: false, reason: "no webhookSecret is configured for this bot (setWebhook's secret_token)" };
    const given = request.headers.get(SECRET_HEADER);
    if (!given) return { ok: false, reason: "missing X-Telegram-Bot-Api-Secret-Token" };
    return constantTimeEqual(given, credentials.webhookSecret) ? { ok: true } : { ok: false, reason: "wrong secret token" };
  },
  async replayKey(request) {
    // A body that is not an update is refused by `parse` (400) before any claim is made.
    const id = z.object({ update_id: z.number().int() }).loose().safeParse(safeJson(request.rawBody)).data?.update_id;
    return { nonce: `update:${id ?? "none"}`, expiresAt: new Date(request.now.getTime() + UPDATE_ID_HELD_DAYS * 86_400_000) };
  },
  parse: async (request, config) => parseTelegramInbound(request.rawBody, config.id, config.channel),
  answer: "ok",
};
