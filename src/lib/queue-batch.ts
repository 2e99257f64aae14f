/**
 * The loop every simple queue consumer shares: each message on its own, a body that fails its
 * schema logged and acked (no retry can fix it), a handler that throws logged and retried later,
 * so one bad message never holds up or re-runs the rest of its batch.
 */
import type { z } from "zod";

export async function eachMessage<T>(
  batch: MessageBatch<unknown>,
  schema: z.ZodType<T>,
  what: string,
  handle: (body: T) => Promise<unknown>,
  retryDelaySeconds = 30,
): Promise<void> {
  for (const message of batch.messages) {
    const parsed = schema.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ msg: `dropping malformed ${what} message`, id: message.id }));
      message.ack();
      continue;
    }
    try {
      await handle(parsed.data);
      message.ack();
    } catch (error) {
      console.error(JSON.stringify({ msg: `${what} message threw`, id: message.id, error: String(error) }));
      message.retry({ delaySeconds: retryDelaySeconds });
    }
  }
}
