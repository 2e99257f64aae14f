/** The delivery Worker: hands each queue batch to src/pipeline. */
import type { Env } from "../../../src/env";
import { consumeAutomation, consumeDeadLetters, consumeEvents, consumeSends } from "../../../src/pipeline/consume";

export const QUEUES = { sends: "herald-sends", deadLetters: "herald-sends-dlq", events: "herald-events", automation: "herald-automation" } as const;

export default {
  async queue(batch, env) {
    switch (batch.queue) {
      case QUEUES.sends:
        return consumeSends(env, batch);
      case QUEUES.deadLetters:
        return consumeDeadLetters(env, batch);
      case QUEUES.events:
        return consumeEvents(env, batch);
      case QUEUES.automation:
        return consumeAutomation(env, batch);
      default:
        throw new Error(`delivery worker has no handler for queue "${batch.queue}"`);
    }
  },
} satisfies ExportedHandler<Env>;
