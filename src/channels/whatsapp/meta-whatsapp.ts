/**
 * Meta's WhatsApp Cloud API (`POST /{version}/{phone-number-id}/messages`, Bearer token, JSON).
 * Free text goes as a `text` message, an approved template (`message.providerTemplate`) as a
 * `template` message, attachment URLs as image/video/document messages with the text as the first
 * one's caption when it fits. `biz_opaque_callback_data` carries our communication id back on
 * every status webhook. Outside the 24-hour customer-service window WhatsApp takes templates
 * only; that refusal becomes an actionable reason, never a bare provider code.
 */
import { z } from "zod";
import type { Attachment } from "../../db/schema";
import { defineProvider, type OutboundMessage, type SendOutcome } from "../types";
import { graphFailure, graphUrl, metaCredentials, metaSettings, postGraph, type CodeRule, type GraphError } from "./meta-graph";
import { sendInParts } from "../send-in-parts";
import { metaWhatsappWebhook, OUTSIDE_WINDOW, WINDOW_CODES } from "./meta-whatsapp-webhook";

const settings = metaSettings.extend({
  /** The WhatsApp phone number *id* from the app's WhatsApp settings, not the number itself. */
  phoneNumberId: z.string().regex(/^\d+$/, "the phone number id (digits) from Meta's WhatsApp settings"),
});

/** Meta's limit on media captions; longer text goes as its own message first. */
const CAPTION_MAX = 1024;

type Body = Record<string, unknown>;

// Cloud API image messages take JPEG and PNG, video MP4 and 3GPP; anything else goes as a document.
function mediaType(a: Attachment): "image" | "video" | "document" {
  const type = a.mimeType?.toLowerCase() ?? "";
  if (/^image\/(jpeg|png)$/.test(type) || (!type && /\.(jpe?g|png)$/i.test(a.filename))) return "image";
  if (/^video\/(mp4|3gpp)$/.test(type) || (!type && /\.(mp4|3gp)$/i.test(a.filename))) return "video";
  return "document";
}

/** The request bodies that make up one message, in order; a string says why WhatsApp cannot carry it. */
export function whatsappBodies(message: OutboundMessage): Body[] | string {
  const base = { messaging_product: "whatsapp", recipient_type: "individual", to: message.to, biz_opaque_callback_data: message.communicationId };
  const text = { ...base, type: "text", text: { body: message.content } };
  if (message.providerTemplate) {
    // A template's media travel in its header component; attachments are not added to it.
    const { name, language, components } = message.providerTemplate;
    return [{ ...base, type: "template", template: { name, language: { code: language }, ...(components?.length ? { components } : {}) } }];
  }
  if (!message.attachments.length) return [text];
  if (message.attachments.some((a) => !a.fileUrl)) return "WhatsApp media must be given as a fileUrl: inline attachment content is not uploaded to Meta";
  const captioned = !!message.content && message.content.length <= CAPTION_MAX;
  const media = message.attachments.map((a, i): Body => {
    const type = mediaType(a);
    return {
      ...base,
      type,
      [type]: { link: a.fileUrl, ...(captioned && i === 0 ? { caption: message.content } : {}), ...(type === "document" ? { filename: a.filename } : {}) },
    };
  });
  return captioned || !message.content ? media : [text, ...media];
}

// Graph error codes (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
const RETRYABLE = new Set([1, 2, 4, 80007, 130429, 131000, 131016]);
/** The account or app, not the message: another provider may still send it. */
const PROVIDER = new Set([3, 10, 190, 368, 131031, 131042, 131048]);
const PERMANENT = new Set([100, 131008, 131009, 131026, 131049, 131050, 131051, 131052, 131053]);

function rule(e: GraphError): CodeRule | undefined {
  const code = e.code ?? -1;
  if (WINDOW_CODES.has(code)) return { kind: "permanent", reason: OUTSIDE_WINDOW };
  // Pair rate limit: about one message per six seconds to the same recipient.
  if (code === 131056) return { kind: "retryable", retryAfterSeconds: 6 };
  if (RETRYABLE.has(code)) return { kind: "retryable" };
  if (PROVIDER.has(code) || (code >= 200 && code <= 299)) return { kind: "provider" };
  // 132xxx: the template is missing, paused, or its parameters do not fit it.
  if (PERMANENT.has(code) || (code >= 132000 && code < 133000)) return { kind: "permanent" };
  return undefined;
}

export const metaWhatsapp = defineProvider({
  kind: "meta_whatsapp",
  channels: ["whatsapp"],
  credentials: metaCredentials,
  settings,
  webhook: metaWhatsappWebhook,
  // Statuses come once the app is subscribed (the verify token) and are accepted when signed (the app secret).
  reportsDelivery: (s, c) => !!c.appSecret && !!s.webhookVerifyToken,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const bodies = whatsappBodies(message);
      if (typeof bodies === "string") return { ok: false, failure: "permanent", reason: bodies };
      const url = graphUrl(s, `/${s.phoneNumberId}/messages`);
      return sendInParts(bodies, async (body): Promise<SendOutcome> => {
        const answer = await postGraph(url, c.accessToken, body, s.timeoutMs);
        const id = (answer.body.messages as { id?: string }[] | undefined)?.[0]?.id;
        if (answer.status < 300 && id) return { ok: true, providerMessageId: id, httpStatus: answer.status };
        if (answer.status < 300) return { ok: false, failure: "retryable", reason: "WhatsApp answered without a message id", httpStatus: answer.status };
        return graphFailure("WhatsApp", answer, rule);
      });
    },
  }),
});
