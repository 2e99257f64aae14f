/**
 * The campaigns queue: each message is one step of a campaign's fan-out (src/campaigns/fanout.ts)
 * or of a workflow's audience trigger (src/workflows/fanout.ts), the two bulk fan-outs sharing one
 * queue, or one chunk of a recipient-list trigger's instances to create (src/workflows/creation.ts). Acked once its chunks are stored (or it turned out stale); retried when handling threw,
 * which is safe because a chunk is created whole or not at all, and a page's runs once per recipient.
 */
import type { Env } from "../env";
import { campaignDeps } from "./deps";
import { runFanOut } from "./fanout";
import { CampaignMessage } from "./message";
import { eachMessage } from "../lib/queue-batch";
import { FanoutMessage, runFanoutMessage } from "../workflows/fanout";
import { CreateRunsMessage, runCreateMessage } from "../workflows/creation";
import { z } from "zod";

const BulkMessage = z.union([FanoutMessage, CreateRunsMessage, CampaignMessage]);

export const consumeCampaigns = (env: Env, batch: MessageBatch<unknown>): Promise<void> => {
  const d = campaignDeps(env);
  return eachMessage(batch, BulkMessage, "campaign", (m) =>
    "runIds" in m ? runCreateMessage(env, m) : "fanoutId" in m ? runFanoutMessage(env, m) : runFanOut(d, m, new Date()),
  );
};
