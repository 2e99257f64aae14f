/**
 * The campaigns queue: each message is one step of a campaign's fan-out (src/campaigns/fanout.ts).
 * Acked once its chunks are stored (or it turned out stale); retried when handling threw, which
 * is safe because a chunk is created whole or not at all.
 */
import type { Env } from "../env";
import { campaignDeps } from "./deps";
import { runFanOut } from "./fanout";
import { CampaignMessage } from "./message";
import { eachMessage } from "../lib/queue-batch";

export const consumeCampaigns = (env: Env, batch: MessageBatch<unknown>): Promise<void> => {
  const d = campaignDeps(env);
  return eachMessage(batch, CampaignMessage, "campaign", (m) => runFanOut(d, m, new Date()));
};
