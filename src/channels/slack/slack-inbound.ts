/**
 * Slack replies through the Events API: the app's Event Subscriptions Request URL is the config's
 * inbound URL, every request is signed with the app's signing secret (slack-signature.ts), and
 * Slack's `url_verification` handshake is answered with its challenge once verified. An
 * `event_callback` carrying a `message` (message.im, message.channels, message.groups,
 * message.mpim) or an `app_mention` becomes an `InboundMessage`; everything else is acknowledged
 * and dropped. Bots' messages (ours included: chat.postMessage's posts come back as events with
 * `bot_id`) and edits, deletions, joins and other subtypes are skipped, so nothing loops.
 *
 * Addresses follow the sends (src/channels/chat/slack.ts): a DM is the user (`event.user`, the id
 * a send names), any other conversation its channel id; a message is `<channel>:<ts>`, like the
 * `providerMessageId` chat.postMessage gives, and a threaded reply answers `<channel>:<thread_ts>`.
 * In a channel, who wrote is not kept: the contact is the channel. Files are named by their
 * `url_private_download` (or `url_private`) and fetched by media.ts with the bot token.
 */
import { z } from "zod";
import type { Channel } from "../../domain";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler } from "../inbound/types";
import { slackReplayKey, verifySlackRequest } from "./slack-signature";

const Ts = z.string().regex(/^\d{1,12}\.\d{1,9}$/, "a Slack message timestamp");
/** Conversation and user ids, as the send side checks them (src/channels/chat/common.ts). */
const SlackId = z.string().regex(/^[CDGUW][A-Z0-9]{6,20}$/);

const File = z
  .object({
    id: z.string().min(1).max(64),
    name: z.string().nullish(),
    mimetype: z.string().nullish(),
    size: z.number().int().min(0).optional(),
    url_private: z.url({ protocol: /^https$/ }).optional(),
    url_private_download: z.url({ protocol: /^https$/ }).optional(),
  })
  .loose();
const MessageEvent = z
  .object({
    type: z.enum(["message", "app_mention"]),
    channel: SlackId,
    channel_type: z.string().optional(),
    user: SlackId.optional(),
    text: z.string().optional(),
    ts: Ts,
    thread_ts: Ts.optional(),
    files: z.array(File).max(20).optional(),
  })
  .loose();
const Skip = z.object({ subtype: z.string().optional(), bot_id: z.string().nullish(), hidden: z.boolean().optional(), user: z.string().optional() }).loose();
const Envelope = z.discriminatedUnion("type", [
  z.object({ type: z.literal("url_verification"), challenge: z.string().regex(/^[\w-]{1,256}$/) }).loose(),
  z.object({ type: z.literal("event_callback"), event: z.object({ type: z.string() }).loose() }).loose(),
  // Slack pauses deliveries to an app that fell behind and says so once: nothing to store.
  z.object({ type: z.literal("app_rate_limited") }).loose(),
]);

/** Subtypes that are a person writing: a message with files, a thread reply also sent to the channel, /me. */
const PERSON_SUBTYPES: ReadonlySet<string> = new Set(["file_share", "thread_broadcast", "me_message"]);

/** Slack escapes these three in `text` and nothing else (its "formatting" docs); `&amp;` last. */
const unescape = (text: string) => text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");

const envelopeOf = (rawBody: string) => Envelope.parse(JSON.parse(rawBody));

type Event = z.infer<typeof MessageEvent>;

const media = (files: Event["files"]) =>
  (files ?? []).map((f) => ({
    contentType: f.mimetype || "application/octet-stream",
    size: f.size ?? 0,
    // A Slack Connect file may come without URLs ("file_access": "check_file_info"): its id is kept.
    url: f.url_private_download ?? f.url_private ?? `slack-file:${f.id}`,
    ...(f.name ? { filename: f.name } : {}),
  }));

/** The callback's message as an `InboundMessage`, or none (a bot's post, an edit, another event type). */
export function parseSlackInbound(rawBody: string, configId: string, channel: Channel): InboundMessage[] {
  const envelope = envelopeOf(rawBody);
  if (envelope.type !== "event_callback" || !["message", "app_mention"].includes(envelope.event.type)) return [];
  // Skipped events are read no further: a shape we do not know must not be a 400, which Slack
  // retries and, repeated, answers by turning the app's subscriptions off.
  const skip = Skip.parse(envelope.event);
  // Slackbot's own posts (reminders, notices) carry no bot_id but are no one's reply.
  if (skip.bot_id || skip.hidden || skip.user === "USLACKBOT" || (skip.subtype !== undefined && !PERSON_SUBTYPES.has(skip.subtype))) return [];
  const e = MessageEvent.parse(envelope.event);
  const files = media(e.files);
  return [
    {
      channel,
      providerConfigId: configId,
      providerMessageId: `${e.channel}:${e.ts}`,
      // A DM answers the user the send named (Slack opens the DM itself); elsewhere the channel.
      from: e.channel_type === "im" && e.user ? e.user : e.channel,
      // The app that received it: its config.
      to: configId,
      ...(e.text ? { text: unescape(e.text) } : {}),
      ...(files.length ? { media: files } : {}),
      ...(e.thread_ts && e.thread_ts !== e.ts ? { inReplyTo: `${e.channel}:${e.thread_ts}` } : {}),
      receivedAt: new Date(Math.round(Number(e.ts) * 1000)).toISOString(),
    },
  ];
}

/** The thread a reply in this conversation goes into: the Slack thread the customer last wrote in, if any. */
export function slackThreadOf(inReplyTo: string | null | undefined): string | undefined {
  return inReplyTo ? /^[CDGUW][A-Z0-9]{6,20}:(\d{1,12}\.\d{1,9})$/.exec(inReplyTo)?.[1] : undefined;
}

export const slackInbound: InboundHandler<{ signingSecret?: string }> = {
  verify: (request, credentials) => verifySlackRequest(request, credentials.signingSecret),
  replayKey: slackReplayKey,
  handshake(request) {
    try {
      const envelope = envelopeOf(request.rawBody);
      return envelope.type === "url_verification" ? envelope.challenge : undefined;
    } catch {
      // Not a handshake; `parse` refuses a body that is nothing Slack sends.
      return undefined;
    }
  },
  parse: async (request, config) => parseSlackInbound(request.rawBody, config.id, config.channel),
  answer: "ok",
};
