/**
 * Messenger Platform webhooks (`object: "page"`), signed with `X-Hub-Signature-256` like
 * WhatsApp's. Delivery receipts name the message ids they confirm; read receipts carry only a
 * watermark time ("everything before this was read") and no ids, so they cannot be matched to a
 * communication and are left out. Messenger sends no ids of ours back, so events match by id.
 */
import { z } from "zod";
import type { ProviderEvent, WebhookHandler } from "../types";
import { hubChallenge, verifyHubSignature } from "../whatsapp/meta-graph";

const Payload = z.object({
  object: z.literal("page"),
  entry: z.array(
    z
      .object({
        messaging: z
          .array(z.object({ delivery: z.object({ mids: z.array(z.string().min(1)).optional(), watermark: z.number().min(0).max(4_102_444_800_000) }).loose().optional() }).loose())
          .optional(),
      })
      .loose(),
  ),
});

export const metaMessengerWebhook: WebhookHandler<{ appSecret?: string }, { webhookVerifyToken?: string }> = {
  verify: (request, credentials) => verifyHubSignature(request, credentials.appSecret),
  challenge: (query, _credentials, settings) => hubChallenge(query, settings.webhookVerifyToken),
  parse(request): ProviderEvent[] {
    return Payload.parse(JSON.parse(request.rawBody)).entry.flatMap((entry) =>
      (entry.messaging ?? []).flatMap(({ delivery }) =>
        !delivery
          ? []
          : (delivery.mids ?? []).map((mid) => ({
              communicationId: null,
              providerMessageId: mid,
              status: "delivered" as const,
              name: "delivery",
              occurredAt: new Date(delivery.watermark),
              dedupeKey: `meta_messenger:${mid}:delivered`,
              detail: {},
            })),
      ),
    );
  },
};
