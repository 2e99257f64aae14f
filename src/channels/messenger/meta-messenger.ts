/**
 * Meta's Messenger Send API (`POST /{version}/{page-id}/messages`, or `/me/messages`, with a Page
 * access token; JSON). The recipient is a page-scoped id (PSID). A Messenger message holds text
 * or one attachment, so a message with attachment URLs goes out as a text message followed by one
 * message per file. Standard messaging is only allowed within 24 hours of the person's last
 * message; later, only a `MESSAGE_TAG` send (non-promotional updates) is accepted.
 */
import { z } from "zod";
import type { Attachment } from "../../db/schema";
import { defineProvider, type OutboundMessage, type SendOutcome } from "../types";
import { graphFailure, graphUrl, metaCredentials, metaSettings, postGraph, type CodeRule, type GraphError } from "../whatsapp/meta-graph";
import { sendInParts } from "../send-in-parts";
import { metaMessengerWebhook } from "./meta-messenger-webhook";

const settings = metaSettings
  .extend({
    /** Sends as this Page; without it, as the Page the token belongs to (`/me`). */
    pageId: z.string().regex(/^\d+$/).optional(),
    messagingType: z.enum(["RESPONSE", "UPDATE", "MESSAGE_TAG"]).default("UPDATE"),
    tag: z.enum(["ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "HUMAN_AGENT"]).optional(),
  })
  .refine((s) => (s.messagingType === "MESSAGE_TAG") === !!s.tag, { message: "tag goes with messagingType MESSAGE_TAG, and only with it", path: ["tag"] });
type Settings = z.infer<typeof settings>;

export const OUTSIDE_MESSENGER_WINDOW =
  "outside Messenger's 24-hour window: the person has not messaged this Page in the last 24 hours; " +
  "send with messagingType MESSAGE_TAG and a tag that fits (non-promotional updates only)";

function attachmentType(a: Attachment): "image" | "video" | "audio" | "file" {
  const kind = a.mimeType?.split("/")[0]?.toLowerCase();
  return kind === "image" || kind === "video" || kind === "audio" ? kind : "file";
}

/** The request bodies that make up one message, in order; a string says why Messenger cannot carry it. */
export function messengerBodies(message: OutboundMessage, s: Settings): Record<string, unknown>[] | string {
  if (message.attachments.some((a) => !a.fileUrl)) return "Messenger attachments must be given as a fileUrl: inline attachment content is not uploaded to Meta";
  const head = { recipient: { id: message.to }, messaging_type: s.messagingType, ...(s.tag ? { tag: s.tag } : {}) };
  return [
    ...(message.content ? [{ ...head, message: { text: message.content } }] : []),
    ...message.attachments.map((a) => ({ ...head, message: { attachment: { type: attachmentType(a), payload: { url: a.fileUrl } } } })),
  ];
}

// Send API error codes (https://developers.facebook.com/docs/messenger-platform/error-codes).
function rule(e: GraphError): CodeRule | undefined {
  if (e.code === 10 && e.error_subcode === 2018278) return { kind: "permanent", reason: OUTSIDE_MESSENGER_WINDOW };
  if (e.code === 1200 || e.code === 2 || e.code === 4 || e.code === 613) return { kind: "retryable" };
  if (e.code === 551 || (e.code === 100 && e.error_subcode === 2018001)) return { kind: "permanent" }; // person unavailable, no such user
  if (e.code === 10 || e.code === 190 || (e.code !== undefined && e.code >= 200 && e.code <= 299)) return { kind: "provider" };
  return undefined;
}

export const metaMessenger = defineProvider({
  kind: "meta_messenger",
  channels: ["messenger"],
  credentials: metaCredentials,
  settings,
  webhook: metaMessengerWebhook,
  reportsDelivery: (s, c) => !!c.appSecret && !!s.webhookVerifyToken,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const bodies = messengerBodies(message, s);
      if (typeof bodies === "string") return { ok: false, failure: "permanent", reason: bodies };
      const url = graphUrl(s, s.pageId ? `/${s.pageId}/messages` : "/me/messages");
      return sendInParts(bodies, async (body): Promise<SendOutcome> => {
        const answer = await postGraph(url, c.accessToken, body, s.timeoutMs);
        const id = answer.body.message_id;
        if (answer.status < 300 && typeof id === "string") return { ok: true, providerMessageId: id, httpStatus: answer.status };
        if (answer.status < 300) return { ok: false, failure: "retryable", reason: "Messenger answered without a message id", httpStatus: answer.status };
        return graphFailure("Messenger", answer, rule);
      });
    },
  }),
});
