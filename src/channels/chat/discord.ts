/**
 * Discord webhooks: `POST <webhook URL>?wait=true` with `{ content, embeds }`; with `wait` Discord
 * answers the created message (its id), without it a bare 204. Rate limits answer 429 with
 * `Retry-After` and `retry_after` (fractional seconds) in the body. Mentions are off unless the
 * payload sets `allowed_mentions`: content a tenant renders from data must not ping @everyone.
 */
import { z } from "zod";
import { baseSettings } from "../settings";
import { defineProvider, type OutboundMessage, type SendOutcome } from "../types";
import { failure, isRecord, parseExtras, postJson, vendorJson, webhookFailureKind, withSubject, type Shaped } from "./common";

const settings = baseSettings.extend({
  /** Overrides the webhook's own name and avatar. */
  username: z.string().min(1).max(80).optional(),
  avatarUrl: z.url({ protocol: /^https$/ }).optional(),
});
type Settings = z.infer<typeof settings>;

export const DISCORD_CONTENT_MAX = 2000;
const MAX_EMBEDS = 10;

const Extras = z
  .object({
    content: z.string().max(DISCORD_CONTENT_MAX).optional(),
    embeds: z.array(z.record(z.string(), z.unknown())).max(MAX_EMBEDS).optional(),
    allowed_mentions: z.record(z.string(), z.unknown()).optional(),
    username: z.string().min(1).max(80).optional(),
    avatar_url: z.url().optional(),
    tts: z.boolean().optional(),
    flags: z.number().int().optional(),
    thread_name: z.string().max(100).optional(),
  })
  .strict();
export type DiscordBody = z.infer<typeof Extras>;

/** The webhook body for a message: pure. */
export function discordBody(message: Pick<OutboundMessage, "subject" | "content" | "chat">, s: Pick<Settings, "username" | "avatarUrl">): Shaped<DiscordBody> {
  const vendor = vendorJson("discord", message.content, message.chat);
  if (!vendor.ok) return vendor;
  const extras = parseExtras("discord", Extras, vendor.body.json, !!message.chat);
  if (!extras.ok) return extras;
  const text = vendor.body.text !== null ? withSubject(message.subject, vendor.body.text, (t) => `**${t}**`) : extras.body.content;
  if (text !== undefined && text.length > DISCORD_CONTENT_MAX) return { ok: false, field: "content", reason: `Discord content is at most ${DISCORD_CONTENT_MAX} characters` };
  if (!text && !extras.body.embeds?.length) return { ok: false, field: "content", reason: "a Discord message needs content or embeds" };
  return {
    ok: true,
    body: {
      ...(s.username ? { username: s.username } : {}),
      ...(s.avatarUrl ? { avatar_url: s.avatarUrl } : {}),
      allowed_mentions: { parse: [] },
      ...extras.body,
      ...(text !== undefined ? { content: text } : {}),
    },
  };
}

/** The webhook URL with `wait=true`, keeping what it carries (`thread_id`). */
export function waitUrl(webhook: string): string {
  const url = new URL(webhook);
  url.searchParams.set("wait", "true");
  return url.toString();
}

export const discord = defineProvider({
  kind: "discord",
  channels: ["discord"],
  credentials: z.object({}).strict(),
  settings,
  create: (_c, s) => ({
    async send(message): Promise<SendOutcome> {
      const shaped = discordBody(message, s);
      if (!shaped.ok) return { ok: false, failure: "permanent", reason: `${shaped.field} ${shaped.reason}` };
      const answer = await postJson(waitUrl(message.to), shaped.body, s.timeoutMs);
      if (answer.status === 200 && typeof answer.json.id === "string") return { ok: true, providerMessageId: answer.json.id, httpStatus: 200, delivered: true };
      if (answer.status === 204) return { ok: true, providerMessageId: `webhook:${message.communicationId}`, httpStatus: 204, delivered: true };
      const said = typeof answer.json.message === "string" ? `${answer.json.message}${answer.json.code !== undefined ? ` (code ${String(answer.json.code)})` : ""}` : undefined;
      return failure("Discord", answer, webhookFailureKind(answer.status), said, isRecord(answer.json) ? answer.json.retry_after : undefined);
    },
  }),
});
