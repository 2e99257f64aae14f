/**
 * What travels on the automation queue (herald-automation): a business event to process, by id.
 * The event itself lives in D1; the message only says "look at this one".
 */
import { z } from "zod";

export const AutomationMessage = z.object({ v: z.literal(1), kind: z.literal("event"), tenantId: z.string().min(1), eventId: z.string().min(1) });
export type AutomationMessage = z.infer<typeof AutomationMessage>;

export const eventMessage = (tenantId: string, eventId: string): AutomationMessage => ({ v: 1, kind: "event", tenantId, eventId });

/** `sendBatch` takes at most 100 messages per call. */
export async function enqueueEvents(queue: Queue<AutomationMessage>, messages: AutomationMessage[]) {
  for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body })));
}
