/**
 * The campaigns queue: each message is one step of a campaign's fan-out (src/campaigns/fanout.ts).
 * Acked once its chunks are stored (or it turned out stale); retried when handling threw, which
 * is safe because a chunk is created whole or not at all.
 */
import type { Env } from "../env";
import { campaignDeps } from "./deps";
import { runFanOut } from "./fanout";
import { CampaignMessage } from "./message";

const CRASH_RETRY_SECONDS = 30;

export async function consumeCampaigns(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  const d = campaignDeps(env);
  for (const message of batch.messages) {
    const parsed = CampaignMessage.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ msg: "dropping malformed campaign message", id: message.id }));
      message.ack();
      continue;
    }
    try {
      await runFanOut(d, parsed.data, new Date());
      message.ack();
    } catch (error) {
      console.error(JSON.stringify({ msg: "campaign fan-out threw", campaignId: parsed.data.campaignId, error: String(error) }));
      message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    }
  }
}
