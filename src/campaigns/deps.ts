/** What the campaign code needs, built once per request, batch or cron run from the bindings. */
import { readConfig, type Env } from "../env";
import { database, type Db } from "../db/client";
import type { LimiterNamespace } from "../durable/client";
import { sendQueues, type SendQueues } from "../pipeline/send-lanes";
import type { EventMessage } from "../pipeline/event-message";
import type { CampaignMessage } from "./message";

export type CampaignDeps = {
  db: Db;
  /** Fan-out chunks. */
  campaigns: Queue<CampaignMessage>;
  /** The send lanes: the campaign's communications take the bulk one (laneFor), so transactional sends never wait behind them. */
  bulk: SendQueues;
  /** Status changes (cancellations) for the tenant's webhooks. */
  events: Queue<EventMessage>;
  limiter: LimiterNamespace;
  /** config.encryptionKey: recipients' sealed contacts open with it. */
  secret: string;
};

export const campaignDeps = (env: Env): CampaignDeps => ({
  db: database(env.DB),
  campaigns: env.CAMPAIGN_QUEUE,
  bulk: sendQueues(env),
  events: env.EVENT_QUEUE,
  limiter: env.LIMITER,
  secret: readConfig(env).encryptionKey,
});
