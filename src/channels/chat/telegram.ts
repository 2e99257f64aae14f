/**
 * Telegram's Bot API: `POST /bot<token>/sendMessage` with `{ chat_id, text, parse_mode }`. The
 * answer is `{ ok: true, result: Message }` or `{ ok: false, error_code, description, parameters:
 * { retry_after } }` (a 429 says how long to wait in the body). A sent message is named
 * `<chat id>:<message id>`, as the inbound parser names a reply's `reply_to_message`, so replies
 * thread onto what Herald sent. Replies arrive through the inbound route (telegram-inbound.ts)
 * with the config's `webhookSecret` as setWebhook's `secret_token`. A send with attachments goes
 * through the media methods instead (telegram-media.ts): its first message names it, and once one
 * call is out a later one's failure is permanent, as a retry would repeat what arrived.
 */
import { z } from "zod";
import { baseSettings } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome, type SuppressionReason } from "../types";
import { joinBase } from "../../lib/http";
import { base64Decode } from "../../lib/base64";
import { sendInParts } from "../send-in-parts";
import { failure, isRecord, parseExtras, postForm, postJson, vendorJson, withSubject, type Shaped } from "./common";
import { telegramCalls, telegramForm, type TelegramCall } from "./telegram-media";

const credentials = z.object({
  /** From @BotFather: `<bot id>:<secret>`. */
  botToken: z.string().regex(/^\d+:[\w-]{20,}$/, "a Telegram bot token (123456:ABC…)"),
  /** setWebhook's `secret_token`: Telegram sends it with every update to the inbound URL. */
  webhookSecret: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, "16 to 256 characters of A-Z, a-z, 0-9, _ and -").optional(),
});
const PARSE_MODES = ["HTML", "MarkdownV2", "Markdown"] as const;
const settings = baseSettings.extend({
  /** How Telegram formats `text`; none: plain text. */
  parseMode: z.enum(PARSE_MODES).optional(),
  disableNotification: z.boolean().default(false),
});
type Settings = z.infer<typeof settings>;

export const TELEGRAM_TEXT_MAX = 4096;

/** What a send may set for Telegram, as content JSON or `metadata.telegram`. */
const Extras = z
  .object({
    text: z.string().min(1).optional(),
    parse_mode: z.enum(PARSE_MODES).optional(),
    reply_markup: z.record(z.string(), z.unknown()).optional(),
    disable_notification: z.boolean().optional(),
    message_thread_id: z.number().int().optional(),
    link_preview_options: z.object({ is_disabled: z.boolean().optional() }).loose().optional(),
  })
  .strict();

export type TelegramBody = { chat_id: number | string; text: string } & Omit<z.infer<typeof Extras>, "text">;

const escapeHtml = (s: string) => s.replace(/[&<>]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[ch]!);
const escapeMarkdownV2 = (s: string) => s.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, "\\$&");
const bold: Record<(typeof PARSE_MODES)[number] | "none", (s: string) => string> = {
  HTML: (s) => `<b>${escapeHtml(s)}</b>`,
  MarkdownV2: (s) => `*${escapeMarkdownV2(s)}*`,
  Markdown: (s) => `*${s.replace(/[*_`[]/g, "")}*`,
  none: (s) => s,
};

/** The `sendMessage` body for a message: pure. */
export function telegramBody(message: Pick<OutboundMessage, "to" | "subject" | "content" | "chat">, s: Pick<Settings, "parseMode" | "disableNotification">): Shaped<TelegramBody> {
  const vendor = vendorJson("telegram", message.content, message.chat);
  if (!vendor.ok) return vendor;
  const extras = parseExtras("telegram", Extras, vendor.body.json, !!message.chat);
  if (!extras.ok) return extras;
  const { text: jsonText, ...rest } = extras.body;
  const parseMode = rest.parse_mode ?? s.parseMode;
  const raw = vendor.body.text ?? jsonText;
  if (!raw) return { ok: false, field: "content", reason: "a Telegram message needs text" };
  const text = withSubject(message.subject, raw, bold[parseMode ?? "none"]);
  if (text.length > TELEGRAM_TEXT_MAX) return { ok: false, field: "content", reason: `Telegram text is at most ${TELEGRAM_TEXT_MAX} characters` };
  return {
    ok: true,
    body: {
      chat_id: /^-?\d+$/.test(message.to) ? Number(message.to) : message.to,
      text,
      ...rest,
      ...(parseMode ? { parse_mode: parseMode } : {}),
      ...(rest.disable_notification ?? s.disableNotification ? { disable_notification: true } : {}),
    },
  };
}

/** 401 and 404 (Telegram's answer to an unknown token) are the bot's; other 4xx are the chat's or the text's. */
function kindOf(status: number): FailureKind {
  if (status === 429 || status >= 500) return "retryable";
  return status === 401 || status === 404 ? "provider" : "permanent";
}

/**
 * Answers that say the chat will never take a message from this bot, whichever bot config tries:
 * the user blocked it or deleted their account (an opt-out, as a STOP is), or the chat does not
 * exist (an invalid contact). Telegram names these only in `description`.
 */
const GONE: readonly [status: number, words: RegExp, reason: SuppressionReason][] = [
  [403, /bot was blocked by the user|user is deactivated|bot was kicked from the/i, "opt_out"],
  [400, /chat not found/i, "invalid"],
];
const goneChat = (status: number, description = ""): SuppressionReason | undefined => GONE.find(([s, words]) => s === status && words.test(description))?.[2];

export const telegram = defineProvider({
  kind: "telegram",
  channels: ["telegram"],
  credentials,
  settings,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const shaped = telegramBody(message, s);
      if (!shaped.ok) return { ok: false, failure: "permanent", reason: `${shaped.field} ${shaped.reason}` };
      const calls = telegramCalls(shaped.body, message.attachments);
      if (!calls.ok) return { ok: false, failure: "permanent", reason: `${calls.field} ${calls.reason}` };
      const base = s.baseUrl ?? "https://api.telegram.org";
      return sendInParts(calls.body, (call) => callBotApi(joinBase(base, `/bot${c.botToken}/${call.method}`), call, shaped.body.chat_id, s.timeoutMs));
    },
  }),
});

/** One Bot API call and its answer: a Message, or sendMediaGroup's list of them (the first names it). */
async function callBotApi(url: string, call: TelegramCall, chatId: number | string, timeoutMs: number): Promise<SendOutcome> {
  const answer = call.uploads.length ? await postForm(url, telegramForm(call, base64Decode), timeoutMs) : await postJson(url, call.body, timeoutMs);
  const result = Array.isArray(answer.json.result) ? answer.json.result[0] : answer.json.result;
  if (answer.json.ok === true && isRecord(result) && typeof result.message_id === "number") {
    const chat = isRecord(result.chat) && typeof result.chat.id === "number" ? result.chat.id : chatId;
    return { ok: true, providerMessageId: `${chat}:${result.message_id}`, httpStatus: answer.status, delivered: true };
  }
  const description = typeof answer.json.description === "string" ? answer.json.description : undefined;
  const parameters = isRecord(answer.json.parameters) ? answer.json.parameters : {};
  const failed = failure("Telegram", answer, kindOf(answer.status), description, parameters.retry_after);
  const gone = goneChat(answer.status, description);
  return gone ? { ...failed, failure: "permanent", suppress: { reason: gone, detail: `Telegram: ${description}` } } : failed;
}
