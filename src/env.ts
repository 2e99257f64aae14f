/**
 * The bindings both Workers receive, and the typed configuration read from them once per
 * request or batch. Secrets come from `wrangler secret put` in production and .dev.vars locally.
 */
import { z } from "zod";
import type { LimiterNamespace } from "./durable/client";
import type { EventMessage } from "./pipeline/event-message";
import type { Inbox } from "./durable/inbox";
import type { SendMessage } from "./pipeline/queue-message";
import type { AutomationMessage } from "./automation/message";
import type { CampaignMessage } from "./campaigns/message";
import type { FanoutMessage } from "./workflows/fanout";
import type { CreateRunsMessage } from "./workflows/creation";

export type Env = {
  DB: D1Database;
  SEND_QUEUE: Queue<SendMessage>;
  /** Status changes for tenant webhooks, and their delivery attempts. */
  EVENT_QUEUE: Queue<EventMessage>;
  /** Business events to run trigger rules for (src/automation), off the request path. */
  AUTOMATION_QUEUE: Queue<AutomationMessage>;
  /** Campaign fan-out chunks (src/campaigns), workflow audience-trigger pages (src/workflows/fanout.ts) and run instance creation (src/workflows/creation.ts). */
  CAMPAIGN_QUEUE: Queue<CampaignMessage | FanoutMessage | CreateRunsMessage>;
  /** Campaign communications: delivered by the same code as SEND_QUEUE, behind their own backlog. */
  BULK_QUEUE: Queue<SendMessage>;
  /** Urgent and high sends: the same delivery, on a lane no normal or bulk backlog stands in (src/pipeline/send-lanes.ts). */
  PRIORITY_QUEUE: Queue<SendMessage>;
  /** Per-tenant rate limits, send rates and quotas (src/durable/tenant-limiter.ts), one object per tenant. */
  LIMITER: LimiterNamespace;
  /** One in-app inbox per recipient (src/durable/inbox.ts). */
  INBOX: DurableObjectNamespace<Inbox>;
  /** Attachment content too large for D1 rows (src/pipeline/attachments.ts). */
  ATTACHMENTS: R2Bucket;
  /** Workflow runs (src/workflows/engine.ts): transactional triggers, and audience fan-outs on their own workflow. */
  JOURNEYS: Workflow<import("./workflows/engine").JourneyParams>;
  JOURNEYS_BULK: Workflow<import("./workflows/engine").JourneyParams>;
  /** The admin console's static files (src/console), bound on the API Worker only. */
  ASSETS?: Fetcher;
  ADMIN_TOKEN?: string;
  ENCRYPTION_KEY?: string;
  PUBLIC_URL?: string;
  SWEEP_STALE_SECONDS?: string;
  /** "true" only in local development (.dev.vars): tenant URLs may then name this machine. */
  ALLOW_LOOPBACK_URLS?: string;
};

const configSchema = z.object({
  ADMIN_TOKEN: z.string().min(8).optional(),
  ENCRYPTION_KEY: z.string().min(40, "ENCRYPTION_KEY must be 32 bytes, base64-encoded"),
  PUBLIC_URL: z.url().default("http://127.0.0.1:8787"),
  SWEEP_STALE_SECONDS: z.coerce.number().int().min(10).default(300),
  ALLOW_LOOPBACK_URLS: z.enum(["true", "false"], "must be \"true\" or \"false\"").default("false"),
});
export type Config = {
  adminToken: string | undefined;
  encryptionKey: string;
  publicUrl: string;
  sweepStaleMs: number;
  /**
   * Tenant URLs (webhook endpoints) may point at loopback: local receivers in development. Never
   * private networks, which `wrangler dev` on a developer's machine could otherwise reach.
   */
  allowLoopbackUrls: boolean;
};

/** Throws a plain Error naming the missing setting: a misconfigured deploy, not a bad request. */
export function readConfig(env: Env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`configuration: ${issue.path.join(".")}: ${issue.message}`);
  }
  const c = parsed.data;
  return {
    adminToken: c.ADMIN_TOKEN,
    encryptionKey: c.ENCRYPTION_KEY,
    publicUrl: c.PUBLIC_URL.replace(/\/+$/, ""),
    sweepStaleMs: c.SWEEP_STALE_SECONDS * 1000,
    allowLoopbackUrls: c.ALLOW_LOOPBACK_URLS === "true",
  };
}
