/**
 * The chat shapers run at the API edge on the send's own content, so a payload no vendor would
 * take is a 422 naming the field, not a failed delivery later. Content from a template is shaped
 * at delivery only (it does not exist before).
 */
import type { ChatChannel } from "./common";
import { chatExtras, isRecord, type Shaped } from "./common";
import { slackBody } from "./slack";
import { teamsBody } from "./teams";
import { discordBody } from "./discord";
import { telegramBody } from "./telegram";
import type { OutboundMessage } from "../types";

type Shapeable = Pick<OutboundMessage, "to" | "subject" | "content" | "chat">;

// Each with its settings' defaults: settings only add to the body.
const SHAPERS: Record<ChatChannel, (m: Shapeable) => Shaped<unknown>> = {
  slack: (m) => slackBody(m, { unfurlLinks: false }),
  teams: (m) => teamsBody(m),
  discord: (m) => discordBody(m, {}),
  telegram: (m) => telegramBody(m, { disableNotification: false }),
};

export function chatShapeIssue(channel: ChatChannel, m: { to: string; subject: string | null; content?: string; metadata?: Record<string, unknown> }): { field: string; reason: string } | undefined {
  const extra = m.metadata?.[channel];
  if (extra !== undefined && !isRecord(extra)) return { field: `metadata.${channel}`, reason: "must be an object of vendor fields" };
  if (m.content === undefined) return undefined;
  const shaped = SHAPERS[channel]({ to: m.to, subject: m.subject, content: m.content, chat: chatExtras(channel, m.metadata) });
  return shaped.ok ? undefined : { field: shaped.field, reason: shaped.reason };
}
