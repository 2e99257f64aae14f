/** What travels on the events queue: status changes to announce, and tenant-webhook deliveries to attempt. */
import { z } from "zod";
import { CommunicationStatus } from "../domain";

export const EventMessage = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("status"),
    tenantId: z.string(),
    communicationId: z.string(),
    status: CommunicationStatus,
    at: z.number(),
  }),
  z.object({ kind: z.literal("delivery"), tenantId: z.string(), deliveryId: z.string() }),
]);
export type EventMessage = z.infer<typeof EventMessage>;
