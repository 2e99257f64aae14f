/** What travels on the send queue: ids only. The communication itself lives in D1. */
import { z } from "zod";
import { chunk } from "../lib/chunk";

export const SendMessage = z.object({
  v: z.literal(1),
  tenantId: z.string().min(1),
  communicationId: z.string().min(1),
  /** The W3C trace id of the API request that accepted it, so the consumer's log lines join it. */
  traceId: z.string().max(64).optional(),
  /** A delivery-receipt check: did the provider that accepted it report back in time? */
  check: z.object({ providerConfigId: z.string(), windowSeconds: z.number() }).optional(),
  /** An escalation: if the communication was not delivered (or opened) by now, send on this channel. */
  escalate: z
    .object({
      channel: z.string(),
      afterSeconds: z.number(),
      until: z.enum(["delivered", "opened"]),
      recipientContact: z.string().optional(),
    })
    .optional(),
});
export type SendMessage = z.infer<typeof SendMessage>;

export const sendMessage = (tenantId: string, communicationId: string, traceId?: string): SendMessage => ({
  v: 1,
  tenantId,
  communicationId,
  ...(traceId ? { traceId } : {}),
});

/** Queues accept delays up to 12 h safely (docs disagree on 12 h vs 24 h); later sends hop. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;

/** Sends any number of messages to a queue; `sendBatch` takes at most 100 per call. */
export async function enqueueAll<T>(queue: Queue<T>, messages: { body: T; delaySeconds?: number }[]) {
  for (const part of chunk(messages, 100)) await queue.sendBatch(part);
}
