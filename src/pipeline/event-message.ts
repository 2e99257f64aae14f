/**
 * What travels on the events queue: status changes to announce and tenant-webhook deliveries to
 * attempt (event-batch.ts), and media jobs, the linked media of inbound messages to fetch before
 * their `message.received` goes out (src/conversations/media-job.ts).
 */
import { z } from "zod";
import { CommunicationStatus } from "../domain";
import { MediaJob } from "../conversations/media-job";

export const WebhookEvent = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("status"),
    tenantId: z.string(),
    communicationId: z.string(),
    status: CommunicationStatus,
    at: z.number(),
  }),
  z.object({ kind: z.literal("delivery"), tenantId: z.string(), deliveryId: z.string() }),
]);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

export const EventMessage = z.discriminatedUnion("kind", [...WebhookEvent.options, MediaJob]);
export type EventMessage = z.infer<typeof EventMessage>;
