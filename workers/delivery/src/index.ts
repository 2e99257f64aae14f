/** The delivery Worker: hands each queue batch to src/pipeline. */
import type { Env } from "../../../src/env";
import { consumeAutomation, consumeDeadLetters, consumeEvents, consumeSends } from "../../../src/pipeline/consume";
import { consumeCampaigns } from "../../../src/campaigns/consume";

export const QUEUES = {
  sends: "herald-sends",
  prioritySends: "herald-priority-sends",
  deadLetters: "herald-sends-dlq",
  events: "herald-events",
  automation: "herald-automation",
  campaigns: "herald-campaigns",
  bulkSends: "herald-bulk-sends",
} as const;

export default {
  async queue(batch, env) {
    switch (batch.queue) {
      case QUEUES.sends:
      // Urgent and high sends: the same delivery, from a lane of their own (src/pipeline/send-lanes.ts).
      case QUEUES.prioritySends:
      // Campaign communications: the same delivery, from their own queue (src/campaigns).
      case QUEUES.bulkSends:
        return consumeSends(env, batch);
      case QUEUES.deadLetters:
        return consumeDeadLetters(env, batch);
      case QUEUES.events:
        return consumeEvents(env, batch);
      case QUEUES.automation:
        return consumeAutomation(env, batch);
      case QUEUES.campaigns:
        return consumeCampaigns(env, batch);
      default:
        throw new Error(`delivery worker has no handler for queue "${batch.queue}"`);
    }
  },
} satisfies ExportedHandler<Env>;
