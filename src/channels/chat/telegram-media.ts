/**
 * Telegram with attachments: the Bot API calls a send becomes, pure. One file goes by its type's
 * method (`sendPhoto` for image/*, `sendVideo`, `sendAudio`, else `sendDocument`) with the text as
 * its `caption`; several go as albums (`sendMediaGroup`), one per kind Telegram lets share an album
 * (photos with videos; documents only with documents, audio only with audio), in the order their
 * first file was given. The text rides on the first file as its caption unless it is longer than a
 * caption may be, or carries buttons an album cannot: then it goes first as its own `sendMessage`,
 * and the files follow without caption. A `fileUrl` goes as the URL (Telegram fetches it); bytes
 * (inline content, or a stored object the loader read) go as a multipart upload, named by
 * `attach://<field>` inside an album.
 *
 * Limits relied on (core.telegram.org/bots/api, "Sending files" and the method pages; the
 * @grammyjs/types doc comments say the same): captions 0–1024 characters, albums 2–10 items;
 * uploads at most 10 MB for photos and 50 MB for other files (src/channels/attachment-limits.ts);
 * by URL at most 5 MB for photos and 20 MB for other files, which Herald cannot check (it never
 * sees those bytes), so Telegram's 400 says so; and sendDocument by URL "will currently only work
 * for GIF, PDF and ZIP files", so other documents given by URL are fetched by Herald and uploaded
 * (src/pipeline/attachment-delivery.ts).
 */
import type { Attachment } from "../../db/schema";
import { unsafeUrlReason } from "../../lib/url-guard";
import type { Shaped } from "./common";

export const TELEGRAM_CAPTION_MAX = 1024;
/** sendMediaGroup takes 2–10 items; a send carries at most 10 attachments (src/pipeline/send-request.ts). */
export const TELEGRAM_ALBUM_MAX = 10;

export type TelegramMediaType = "photo" | "video" | "audio" | "document";
const METHOD: Record<TelegramMediaType, string> = { photo: "sendPhoto", video: "sendVideo", audio: "sendAudio", document: "sendDocument" };

export function telegramMediaType(mimeType: string | undefined): TelegramMediaType {
  const top = mimeType?.split("/")[0]?.toLowerCase();
  return top === "image" ? "photo" : top === "video" ? "video" : top === "audio" ? "audio" : "document";
}

/** The document types Telegram fetches by URL itself (GIFs are images here, sent as photos). */
const DOCUMENT_BY_URL = new Set(["application/pdf", "application/zip"]);

/** Whether Telegram takes this file's URL as it is; if not, the file must be uploaded. */
export const telegramTakesUrl = (a: Pick<Attachment, "mimeType">) =>
  telegramMediaType(a.mimeType) !== "document" || DOCUMENT_BY_URL.has(a.mimeType?.toLowerCase() ?? "");

/** Which album a type may share: Telegram mixes photos and videos, nothing else. */
const albumOf = (t: TelegramMediaType) => (t === "video" ? "photo" : t);

/** A file to upload in the multipart body, as `field`; `content` is base64. */
export type TelegramUpload = { field: string; filename: string; mimeType?: string; content: string };
/** One Bot API call: JSON when nothing is uploaded, multipart/form-data otherwise. */
export type TelegramCall = { method: string; body: Record<string, unknown>; uploads: TelegramUpload[] };

/** What the sendMessage body carries that media calls take too, or take differently. */
type TextBody = { chat_id: number | string; text: string; parse_mode?: string; reply_markup?: unknown; link_preview_options?: unknown } & Record<string, unknown>;

type Item = { index: number; type: TelegramMediaType; attachment: Attachment };

/** The calls that send `body` (a shaped sendMessage body) with `attachments`, in order. */
export function telegramCalls(body: TextBody, attachments: Attachment[]): Shaped<TelegramCall[]> {
  if (attachments.length === 0) return { ok: true, body: [{ method: "sendMessage", body, uploads: [] }] };
  for (const [index, a] of attachments.entries()) {
    const unsafe = a.fileUrl ? unsafeUrlReason(a.fileUrl, false) : undefined;
    if (unsafe) return { ok: false, field: `attachments.${index}`, reason: `its URL ${unsafe}` };
    // Stored objects are read by the loader before the adapter runs; one left unread cannot be sent.
    if (!a.fileUrl && !a.content) return { ok: false, field: `attachments.${index}`, reason: `${a.filename} has no content to upload` };
  }
  const { text, parse_mode, reply_markup, link_preview_options, ...common } = body;
  const albums = new Map<TelegramMediaType, Item[]>();
  for (const [index, attachment] of attachments.entries()) {
    const type = telegramMediaType(attachment.mimeType);
    const album = albums.get(albumOf(type)) ?? [];
    albums.set(albumOf(type), [...album, { index, type, attachment }]);
  }
  const single = attachments.length === 1;
  // Buttons go with the text: on a single file's caption, or on a message of their own before an album.
  const asCaption = text.length <= TELEGRAM_CAPTION_MAX && (single || reply_markup === undefined);
  const caption = asCaption ? { caption: text, ...(parse_mode ? { parse_mode } : {}) } : {};
  const calls: TelegramCall[] = asCaption ? [] : [{ method: "sendMessage", body, uploads: [] }];
  for (const files of albums.values()) {
    const first = calls.length === 0 ? caption : {};
    for (let i = 0; i < files.length; i += TELEGRAM_ALBUM_MAX) {
      const chunk = files.slice(i, i + TELEGRAM_ALBUM_MAX);
      const head = i === 0 ? first : {};
      calls.push(chunk.length === 1 ? oneFile(common, chunk[0]!, head, asCaption ? reply_markup : undefined) : album(common, chunk, head));
    }
  }
  return { ok: true, body: calls };
}

function oneFile(common: Record<string, unknown>, f: Item, caption: Record<string, unknown>, replyMarkup: unknown): TelegramCall {
  const a = f.attachment;
  const media = a.fileUrl ? { [f.type]: a.fileUrl } : {};
  const uploads = a.fileUrl ? [] : [upload(f.type, a)];
  return { method: METHOD[f.type], body: { ...common, ...media, ...caption, ...(replyMarkup !== undefined ? { reply_markup: replyMarkup } : {}) }, uploads };
}

function album(common: Record<string, unknown>, files: Item[], caption: Record<string, unknown>): TelegramCall {
  const uploads: TelegramUpload[] = [];
  const media = files.map((f, i) => {
    const a = f.attachment;
    const field = `file${f.index}`;
    if (!a.fileUrl) uploads.push(upload(field, a));
    // Telegram shows the first item's caption as the album's.
    return { type: f.type, media: a.fileUrl ?? `attach://${field}`, ...(i === 0 ? caption : {}) };
  });
  return { method: "sendMediaGroup", body: { ...common, media }, uploads };
}

const upload = (field: string, a: Attachment): TelegramUpload => ({ field, filename: a.filename, ...(a.mimeType ? { mimeType: a.mimeType } : {}), content: a.content! });

/** The multipart body of a call: fields as strings (objects as JSON, as the Bot API reads them), then the files. */
export function telegramForm(call: TelegramCall, decode: (b64: string) => Uint8Array): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(call.body)) form.append(k, typeof v === "string" ? v : JSON.stringify(v));
  for (const u of call.uploads) form.append(u.field, new Blob([decode(u.content)], { type: u.mimeType ?? "application/octet-stream" }), u.filename);
  return form;
}
