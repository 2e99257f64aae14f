/**
 * Microsoft Teams incoming webhooks: the Workflows ("Post to a channel when a webhook request is
 * received") URLs and the retiring Office 365 connector URLs take the same body, a `message`
 * whose attachments are Adaptive Cards. Workflows answer 202 (the flow runs later: `sent`, no
 * receipt follows); connectors answer 200 `1`, or 200 with the error in words (any other text). Text content
 * becomes a card of TextBlocks; content (or `metadata.teams.card`) may be a whole Adaptive Card.
 */
import { z } from "zod";
import { baseSettings } from "../settings";
import { defineProvider, type OutboundMessage, type SendOutcome } from "../types";
import { failure, isRecord, postJson, vendorJson, webhookFailureKind, type Shaped } from "./common";

export const ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive";
/** Teams refuses webhook messages over about 28 KB. */
export const TEAMS_BODY_MAX = 28 * 1024;

type Attachment = { contentType: string; contentUrl: null | string; content: Record<string, unknown> };
export type TeamsBody = { type: "message"; attachments: Attachment[] };

/** A card of TextBlocks: the subject in bold, then the text, wrapped. */
export function textCard(subject: string | null, text: string): Record<string, unknown> {
  return {
    type: "AdaptiveCard",
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    version: "1.4",
    body: [...(subject ? [{ type: "TextBlock", text: subject, weight: "Bolder", size: "Medium", wrap: true }] : []), { type: "TextBlock", text, wrap: true }],
  };
}

const card = (content: Record<string, unknown>): Attachment => ({ contentType: ADAPTIVE_CARD, contentUrl: null, content });

/** The webhook body for a message: pure. */
export function teamsBody(message: Pick<OutboundMessage, "subject" | "content" | "chat">): Shaped<TeamsBody> {
  const vendor = vendorJson("teams", message.content, message.chat);
  if (!vendor.ok) return vendor;
  const { text, json } = vendor.body;
  const field = message.chat ? "metadata.teams" : "content";
  let attachments: Attachment[];
  const given = isRecord(json.card) ? json.card : undefined;
  // Text beside `metadata.teams.card` opens the card, so nothing is dropped; beside whole attachments it would not show.
  if (given && text !== null) attachments = [card({ ...given, body: [...(textCard(message.subject, text).body as unknown[]), ...(Array.isArray(given.body) ? given.body : [])] })];
  else if (text !== null && Object.keys(json).length > 0) return { ok: false, field, reason: "text content goes with metadata.teams.card only; put it in the card" };
  else if (given) attachments = [card(given)];
  else if (json.type === "AdaptiveCard") attachments = [card(json)];
  else if (Array.isArray(json.attachments) && json.attachments.every((a) => isRecord(a) && typeof a.contentType === "string" && isRecord(a.content))) attachments = json.attachments as Attachment[];
  else if (text !== null) attachments = [card(textCard(message.subject, text))];
  else return { ok: false, field, reason: "must be an Adaptive Card ({ \"type\": \"AdaptiveCard\", … }), { \"card\": … }, or a message with attachments" };
  if (attachments.length === 0 || attachments.some((a) => a.contentType === ADAPTIVE_CARD && a.content.type !== "AdaptiveCard")) {
    return { ok: false, field, reason: "each attachment must be an Adaptive Card" };
  }
  const body: TeamsBody = { type: "message", attachments };
  if (new TextEncoder().encode(JSON.stringify(body)).length > TEAMS_BODY_MAX) return { ok: false, field, reason: "the Teams message is over 28 KB" };
  return { ok: true, body };
}

export const teams = defineProvider({
  kind: "teams",
  channels: ["teams"],
  credentials: z.object({}).strict(),
  settings: baseSettings,
  create: (_c, s) => ({
    async send(message): Promise<SendOutcome> {
      const shaped = teamsBody(message);
      if (!shaped.ok) return { ok: false, failure: "permanent", reason: `${shaped.field} ${shaped.reason}` };
      const answer = await postJson(message.to, shaped.body, s.timeoutMs);
      const id = answer.headers.get("x-ms-workflow-run-id") ?? `webhook:${message.communicationId}`;
      if (answer.status === 202) return { ok: true, providerMessageId: id, httpStatus: 202 };
      // A connector answers `1` when it posted, and its own failures inside a 200 ("… Microsoft Teams endpoint returned HTTP error 429 …").
      if (answer.status === 200 && !["", "1"].includes(answer.text.trim())) {
        return failure("Teams", answer, /\b(429|5\d\d)\b/.test(answer.text) ? "retryable" : "permanent", answer.text.slice(0, 200));
      }
      if (answer.status >= 200 && answer.status < 300) return { ok: true, providerMessageId: id, httpStatus: answer.status, delivered: answer.status === 200 };
      return failure("Teams", answer, webhookFailureKind(answer.status));
    },
  }),
});
