/**
 * The API Worker: the public HTTP API, the Email Worker handler for reply domains, the cron sweep and the per-tenant limiter Durable Object
 * (which the delivery Worker reaches too). Delivery runs in the queue consumer Worker
 * (workers/delivery), which shares src/pipeline.
 */
import { createApp } from "./api/app";
import { database } from "./db/client";
import { readConfig, type Env } from "./env";
import { sweep } from "./pipeline/sweep";
import { sweepEvents } from "./pipeline/events-sweep";
import { sendQueues } from "./pipeline/send-lanes";
import { applyRetention } from "./pipeline/retention";
import { automationDeps } from "./automation/deps";
import { runAutomationPasses } from "./automation/cron";
import { campaignDeps } from "./campaigns/deps";
import { runCampaignPass } from "./campaigns/cron";
import { runWorkflowPass } from "./workflows/cron";
import { receiveEmail } from "./channels/email/inbound-worker";

export { TenantLimiter } from "./durable/tenant-limiter";

export { Inbox } from "./durable/inbox";

export { JourneyWorkflow } from "./workflows/engine";

const app = createApp();

export default {
  fetch: app.fetch,
  // Email Routing's "Send to a Worker": replies to a tenant's reply domain (src/channels/email/inbound-worker.ts).
  async email(message, env) {
    await receiveEmail(message, env);
  },
  async scheduled(controller, env, ctx) {
    const config = readConfig(env);
    ctx.waitUntil(
      sweep(database(env.DB), sendQueues(env), config.sweepStaleMs).then((r) => {
        if (r.reenqueued) console.log(JSON.stringify({ msg: "sweep re-enqueued", ...r }));
      }),
    );
    // Webhook deliveries and media jobs herald-events lost (src/pipeline/events-sweep.ts).
    ctx.waitUntil(
      sweepEvents(database(env.DB), env.EVENT_QUEUE, new Date(controller.scheduledTime)).then(
        (r) => console.log(JSON.stringify({ msg: "events sweep", ...r })),
        (error) => console.error(JSON.stringify({ msg: "events sweep failed", error: String(error) })),
      ),
    );
    ctx.waitUntil(
      applyRetention(database(env.DB), env.ATTACHMENTS, new Date(controller.scheduledTime)).then((r) => {
        // Every field is a count: log a pass that changed anything, whatever counters retention grows.
        if (Object.values(r).some((n) => n > 0)) console.log(JSON.stringify({ msg: "retention", ...r }));
      }),
    );
    // Due reminder steps, closed digests, lost business events, retention (src/automation/cron.ts).
    ctx.waitUntil(
      runAutomationPasses(automationDeps(env), new Date(controller.scheduledTime)).then((r) =>
        console.log(JSON.stringify({ msg: "automation passes", ...r })),
      ),
    );
    // Due scheduled campaigns, stalled fan-out chains, finished A/B tests (src/campaigns/cron.ts).
    ctx.waitUntil(
      runCampaignPass(campaignDeps(env), new Date(controller.scheduledTime)).then(
        (r) => console.log(JSON.stringify({ msg: "campaign pass", ...r })),
        (error) => console.error(JSON.stringify({ msg: "campaign pass failed", error: String(error) })),
      ),
    );
    // Stalled audience fan-outs and lost instance creations of workflow runs (src/workflows/cron.ts).
    ctx.waitUntil(
      runWorkflowPass(env, new Date(controller.scheduledTime)).then((r) => {
        if (r.errors.length) console.error(JSON.stringify({ msg: "workflow pass failed", errors: r.errors }));
        if (r.fanoutsRestarted || r.lostRunsCreated) console.log(JSON.stringify({ msg: "workflow pass", fanoutsRestarted: r.fanoutsRestarted, lostRunsCreated: r.lostRunsCreated }));
      }),
    );
  },
} satisfies ExportedHandler<Env>;
