/**
 * Inbound SMS through Vonage's SMS API: the number's inbound webhook posts `msisdn`, `to`, `text`,
 * `messageId` (form or JSON). Verified as delivery receipts are (src/channels/sms/vonage-webhook.ts):
 * the signature secret's `sig`, the signed `timestamp` within the window and the signed `nonce`
 * accepted once. A long message arrives in parts (`concat-*`); each part is stored as sent.
 */
import { z } from "zod";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundHandler } from "../inbound/types";
import { vonageParams, vonageWebhook, type SignatureMethod } from "./vonage-webhook";

const Inbound = z
  .object({
    msisdn: z.string().regex(/^\d{7,15}$/),
    to: z.string().min(1),
    text: z.string().default(""),
    messageId: z.string().min(1),
    "message-timestamp": z.string().optional(),
  })
  .loose();

export function parseVonageInbound(rawBody: string, headers: Headers, configId: string, now: Date): InboundMessage {
  const m = Inbound.parse(vonageParams(rawBody, headers));
  return {
    channel: "sms",
    providerConfigId: configId,
    providerMessageId: m.messageId,
    from: `+${m.msisdn}`,
    to: /^\d+$/.test(m.to) ? `+${m.to}` : m.to,
    ...(m.text ? { text: m.text } : {}),
    receivedAt: now.toISOString(),
  };
}

export const vonageInbound: InboundHandler<{ signatureSecret?: string }, { signatureMethod: SignatureMethod }> = {
  verify: (request, credentials, settings) => vonageWebhook.verify(request, credentials, settings),
  replayKey: (request) => vonageWebhook.replayKey!(request),
  parse: async (request, config) => [parseVonageInbound(request.rawBody, request.headers, config.id, request.now)],
  answer: "ok",
};
