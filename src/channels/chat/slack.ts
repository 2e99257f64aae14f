/**
 * Slack, two ways, chosen by the recipient's address: a conversation id (C…, D…, U…) goes
 * through the Web API's `chat.postMessage` with the config's bot token (`Authorization: Bearer`;
 * Slack answers 200 `{ ok: false, error }` on failure, so the error code is what is classified);
 * an incoming webhook URL gets the same body without `channel` (it answers plain text: `ok`, or
 * `invalid_payload`, `channel_not_found`…). Content is mrkdwn text or a Block Kit payload
 * (`{ "blocks": [...], "text": "fallback" }`) as content or `metadata.slack`.
 */
import { z } from "zod";
import { baseSettings } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome } from "../types";
import { joinBase } from "../../lib/http";
import { failure, isUrl, postJson, vendorJson, webhookFailureKind, withSubject, type Shaped } from "./common";

const credentials = z.object({
  /** A bot token (`xoxb-…`) with `chat:write`: needed for channel and user ids, not for webhook URLs. */
  botToken: z.string().regex(/^xox[bp]-[\w-]+$/, "a Slack bot token (xoxb-…)").optional(),
  /**
   * The app's Signing Secret (Basic Information → App Credentials): needed only to receive
   * replies through the Events API (src/channels/slack/slack-inbound.ts); without it the config's
   * inbound URL refuses every request.
   */
  signingSecret: z.string().regex(/^[A-Za-z0-9]{16,128}$/, "the Slack app's signing secret (16 to 128 letters and digits)").optional(),
});
const settings = baseSettings.extend({
  /** Slack's link previews; off by default, as notifications rarely want them. */
  unfurlLinks: z.boolean().default(false),
});
type Settings = z.infer<typeof settings>;

/** Slack's own limit on `text`; longer text is truncated by Slack, so it is refused here. */
export const SLACK_TEXT_MAX = 40_000;
const MAX_BLOCKS = 50;

export type SlackBody = { channel?: string; text?: string; blocks?: unknown[]; attachments?: unknown[]; unfurl_links?: boolean; unfurl_media?: boolean; thread_ts?: string; mrkdwn?: boolean };

/** The `chat.postMessage` (or webhook) body for a message: pure. */
export function slackBody(message: Pick<OutboundMessage, "to" | "subject" | "content" | "chat">, s: Pick<Settings, "unfurlLinks">): Shaped<SlackBody> {
  const vendor = vendorJson("slack", message.content, message.chat);
  if (!vendor.ok) return vendor;
  const { text, json } = vendor.body;
  const blocks = json.blocks;
  if (blocks !== undefined && (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS)) return { ok: false, field: "content", reason: `blocks must be an array of at most ${MAX_BLOCKS} Block Kit blocks` };
  if (json.thread_ts !== undefined && typeof json.thread_ts !== "string") return { ok: false, field: "metadata.slack", reason: "thread_ts must be a message timestamp string" };
  // With blocks, `text` is the notification and screen-reader fallback Slack asks for.
  const fallback = typeof json.text === "string" ? json.text : (text ?? message.subject ?? "");
  const body: SlackBody = {
    ...(isUrl(message.to) ? {} : { channel: message.to }),
    text: text !== null ? withSubject(message.subject, text, (t) => `*${t}*`) : fallback,
    ...(Array.isArray(blocks) ? { blocks } : {}),
    ...(Array.isArray(json.attachments) ? { attachments: json.attachments } : {}),
    ...(typeof json.thread_ts === "string" ? { thread_ts: json.thread_ts } : {}),
    unfurl_links: s.unfurlLinks,
    unfurl_media: s.unfurlLinks,
  };
  if (!body.text && !body.blocks && !body.attachments) return { ok: false, field: "content", reason: "a Slack message needs text or blocks" };
  if ((body.text?.length ?? 0) > SLACK_TEXT_MAX) return { ok: false, field: "content", reason: `Slack text is at most ${SLACK_TEXT_MAX} characters` };
  return { ok: true, body };
}

// https://api.slack.com/methods/chat.postMessage#errors
const RETRYABLE = new Set(["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]);
const PROVIDER = new Set([
  "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope", "not_allowed_token_type",
  "no_permission", "team_access_not_granted", "ekm_access_denied", "org_login_required", "invalid_token", "accesslimited",
]);

/** What a Slack error code means for this attempt; anything else is about the message or the channel. */
export function slackErrorKind(error: string): FailureKind {
  if (RETRYABLE.has(error)) return "retryable";
  return PROVIDER.has(error) ? "provider" : "permanent";
}

async function viaWebApi(token: string | undefined, body: SlackBody, s: Settings): Promise<SendOutcome> {
  if (!token) return { ok: false, failure: "provider", reason: "this Slack config has no botToken: it can post to incoming webhook URLs only, not to channel or user ids" };
  const answer = await postJson(joinBase(s.baseUrl ?? "https://slack.com", "/api/chat.postMessage"), body, s.timeoutMs, { authorization: `Bearer ${token}` });
  const { ok, error, ts, channel } = answer.json;
  if (answer.status === 200 && ok === true && typeof ts === "string") return { ok: true, providerMessageId: `${typeof channel === "string" ? channel : body.channel}:${ts}`, httpStatus: 200, delivered: true };
  if (typeof error === "string") return failure("Slack", answer, answer.status === 429 ? "retryable" : slackErrorKind(error), error);
  return failure("Slack", answer, webhookFailureKind(answer.status));
}

async function viaWebhook(url: string, body: SlackBody, communicationId: string, s: Settings): Promise<SendOutcome> {
  const answer = await postJson(url, body, s.timeoutMs);
  // A webhook answers no message id: the communication names the message.
  if (answer.status === 200) return { ok: true, providerMessageId: `webhook:${communicationId}`, httpStatus: 200, delivered: true };
  return failure("Slack", answer, webhookFailureKind(answer.status), answer.text.slice(0, 100));
}

export const slack = defineProvider({
  kind: "slack",
  channels: ["slack"],
  credentials,
  settings,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const shaped = slackBody(message, s);
      if (!shaped.ok) return { ok: false, failure: "permanent", reason: `${shaped.field} ${shaped.reason}` };
      return isUrl(message.to) ? viaWebhook(message.to, shaped.body, message.communicationId, s) : viaWebApi(c.botToken, shaped.body, s);
    },
  }),
});
