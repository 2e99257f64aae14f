/**
 * What the automation passes need, built once per queue batch or cron run from the bindings.
 * `now` is passed in, never read deep inside, so tests drive the clock.
 */
import type { Db } from "../db/client";
import type { LimiterNamespace } from "../durable/client";
import { readConfig, type Env } from "../env";
import { database } from "../db/client";
import type { EventMessage } from "../pipeline/event-message";
import { sendQueues, type SendQueues } from "../pipeline/send-lanes";
import type { AutomationMessage } from "./message";
import type { DispatchDeps } from "./dispatch";

export type AutomationDeps = {
  db: Db;
  sends: SendQueues;
  events: Queue<EventMessage>;
  automation: Queue<AutomationMessage>;
  limiter: LimiterNamespace;
  /** config.encryptionKey: recipients' sealed contacts open with it. */
  secret: string;
  /** The bindings themselves, for what takes them whole (starting workflow runs). */
  env?: Env;
};

export const automationDeps = (env: Env): AutomationDeps => ({
  db: database(env.DB),
  sends: sendQueues(env),
  events: env.EVENT_QUEUE,
  automation: env.AUTOMATION_QUEUE,
  limiter: env.LIMITER,
  secret: readConfig(env).encryptionKey,
  env,
});

/** A claim older than this belongs to a run that died; another run may take it over. */
export const STALE_CLAIM_MS = 5 * 60_000;

export const forTenant = (d: AutomationDeps, tenantId: string, now: Date): DispatchDeps => ({ db: d.db, queue: d.sends, limiter: d.limiter, secret: d.secret, tenantId, now });
