/**
 * What the chat channels (Slack, Microsoft Teams, Discord, Telegram) share: which channels they
 * are, the recipient addresses each takes, the vendor JSON a send may carry (as its `content`, or
 * under `metadata.<channel>`), and posting JSON with the answer classified. Each vendor's adapter
 * (slack.ts, teams.ts, discord.ts, telegram.ts) shapes its body with a pure function over these.
 */
import type { z } from "zod";
import type { Channel } from "../../domain";
import type { FailureKind, OutboundMessage, SendOutcome } from "../types";
import { fetchWithTimeout, parseRetryAfter } from "../../lib/http";
import { unsafeUrlReason } from "../../lib/url-guard";

export const CHAT_CHANNELS = ["slack", "teams", "discord", "telegram"] as const satisfies readonly Channel[];
export type ChatChannel = (typeof CHAT_CHANNELS)[number];
export const isChatChannel = (c: Channel): c is ChatChannel => (CHAT_CHANNELS as readonly Channel[]).includes(c);

type Normalised = { ok: true; value: string } | { ok: false; reason: string };

/** A Slack conversation id: a public or private channel (C, G), a DM (D), a user (U, W). */
const SLACK_ID = /^[CDGUW][A-Z0-9]{6,20}$/;
/** A Telegram chat id (negative for groups and channels) or a public channel's @username. */
const TELEGRAM_CHAT = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/;

export const isUrl = (contact: string) => /^https?:\/\//i.test(contact);

/**
 * A chat address as a send gives it. Webhook URLs are tenant-given hosts Herald will call, so they
 * pass the URL guard: here loopback is let through (it is refused again at delivery unless
 * ALLOW_LOOPBACK_URLS says this is local development, see `unsafeWebhook`), private networks never.
 */
export function normaliseChatContact(channel: ChatChannel, value: string): Normalised {
  const url = (what: string): Normalised => {
    const reason = unsafeUrlReason(value, true);
    return reason ? { ok: false, reason: `${what} ${reason}` } : { ok: true, value };
  };
  switch (channel) {
    case "slack":
      if (isUrl(value)) return url("a Slack incoming webhook URL");
      return SLACK_ID.test(value) ? { ok: true, value } : { ok: false, reason: "must be a Slack channel or user id (C…, G…, D…, U…, W…) or an incoming webhook URL" };
    case "teams":
      return isUrl(value) ? url("a Teams webhook URL") : { ok: false, reason: "must be a Microsoft Teams incoming webhook or Workflows URL" };
    case "discord":
      return isUrl(value) ? url("a Discord webhook URL") : { ok: false, reason: "must be a Discord webhook URL" };
    case "telegram":
      return TELEGRAM_CHAT.test(value) ? { ok: true, value } : { ok: false, reason: "must be a Telegram chat id (digits, negative for groups) or a channel's @username" };
  }
}

/** At delivery, with the deployment's loopback rule: why this message's webhook URL may not be called. */
export function unsafeWebhook(message: OutboundMessage, allowLoopback: boolean): string | undefined {
  if (!isChatChannel(message.channel) || !isUrl(message.to)) return undefined;
  const reason = unsafeUrlReason(message.to, allowLoopback);
  return reason ? `the ${message.channel} webhook URL ${reason}` : undefined;
}

/** A shaped request body, or why the message cannot be carried and which field is at fault. */
export type Shaped<T> = { ok: true; body: T } | { ok: false; field: string; reason: string };

/**
 * The vendor JSON in a send: `content` that is a JSON object (a Block Kit payload, an Adaptive
 * Card, embeds), then `metadata.<channel>` on top. Plain content is text: `json` is empty.
 */
export function vendorJson(channel: ChatChannel, content: string, extra: Record<string, unknown> | undefined): Shaped<{ text: string | null; json: Record<string, unknown> }> {
  const trimmed = content.trim();
  let fromContent: Record<string, unknown> = {};
  let text: string | null = content;
  if (trimmed.startsWith("{") && trimmed.endsWith("}")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return { ok: false, field: "content", reason: `looks like a JSON ${channel} payload but does not parse` };
    }
    if (!isRecord(parsed)) return { ok: false, field: "content", reason: "a JSON payload must be an object" };
    fromContent = parsed;
    text = null;
  }
  return { ok: true, body: { text, json: { ...fromContent, ...(extra ?? {}) } } };
}

/** Vendor fields checked by the adapter's schema; the field at fault is metadata's when the send gave any. */
export function parseExtras<T>(channel: ChatChannel, schema: z.ZodType<T>, json: Record<string, unknown>, fromMetadata: boolean): Shaped<T> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, body: parsed.data };
  const i = parsed.error.issues[0]!;
  return { ok: false, field: fromMetadata ? `metadata.${channel}` : "content", reason: `${i.path.join(".") || "payload"}: ${i.message}` };
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `metadata.<channel>` of a communication, when it is an object: what toOutbound hands the adapter. */
export const chatExtras = (channel: Channel, metadata: Record<string, unknown> | null | undefined) => {
  const v = metadata?.[channel];
  return isChatChannel(channel) && isRecord(v) ? v : undefined;
};

export type Answer = { status: number; headers: Headers; text: string; json: Record<string, unknown> };

/**
 * POSTs JSON (postForm a multipart form). The URL is a secret on every chat platform (a webhook's token, Telegram's bot token
 * in the path), so an error that quotes it is rethrown without it: the reason goes on the timeline.
 */
export function postJson(url: string, body: unknown, timeoutMs: number, headers: Record<string, string> = {}): Promise<Answer> {
  return post(url, { method: "POST", headers: { "content-type": "application/json; charset=utf-8", ...headers }, body: JSON.stringify(body) }, timeoutMs);
}

/** POSTs a multipart form (Telegram's file uploads); fetch writes the boundary into its content type. */
export const postForm = (url: string, form: FormData, timeoutMs: number): Promise<Answer> => post(url, { method: "POST", body: form }, timeoutMs);

async function post(url: string, init: RequestInit, timeoutMs: number): Promise<Answer> {
  const res = await fetchWithTimeout(url, init, timeoutMs).catch((e: unknown) => {
    throw withoutUrl(e, url);
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Slack's webhooks answer plain text ("ok", "invalid_payload"); Teams' "1".
  }
  return { status: res.status, headers: res.headers, text, json: isRecord(json) ? json : {} };
}

/** The error without the URL it quotes (a chat URL holds a secret); used too where Telegram's files are fetched. */
export function withoutUrl(e: unknown, url: string): unknown {
  if (!(e instanceof Error)) return e;
  const { pathname, search } = new URL(url);
  const secret = pathname + search;
  if (!e.message.includes(secret) && !e.message.includes(url)) return e;
  // A new error with the same name: a TimeoutError must stay one (src/pipeline/outbound.ts reads it).
  const redacted = new Error(e.message.replaceAll(url, "<url>").replaceAll(secret, "/<secret>"));
  redacted.name = e.name;
  return redacted;
}

/**
 * Seconds to wait, from `Retry-After` (parseRetryAfter) or a vendor's own field in the body
 * (Discord's `retry_after`, Telegram's `parameters.retry_after`).
 */
export function retryAfter(headers: Headers, fromBody?: unknown): number | undefined {
  return parseRetryAfter(headers.get("retry-after")) ?? (typeof fromBody === "number" && fromBody >= 0 ? Math.ceil(fromBody) : undefined);
}

/**
 * How a webhook URL's HTTP answer is handled: 429 and 5xx may pass later; anything else is about
 * the URL or the body, which are the recipient's and the message's, so no other config does better.
 */
export const webhookFailureKind = (status: number): FailureKind => (status === 429 || status >= 500 ? "retryable" : "permanent");

export function failure(vendor: string, answer: Answer, kind: FailureKind, said?: string, retryAfterFromBody?: unknown): Extract<SendOutcome, { ok: false }> {
  const words = said ?? answer.text.slice(0, 200);
  return {
    ok: false,
    failure: kind,
    reason: `${vendor} answered ${answer.status}${words ? `: ${words}` : ""}`,
    httpStatus: answer.status,
    retryAfterSeconds: retryAfter(answer.headers, retryAfterFromBody),
  };
}

/** A subject, if any, as the first line of a chat message, in the vendor's bold. */
export const withSubject = (subject: string | null, text: string, bold: (s: string) => string) => (subject ? `${bold(subject)}\n${text}` : text);
