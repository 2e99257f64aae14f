/**
 * The API Worker: the public HTTP API and the cron sweep. Delivery runs in the queue consumer
 * Worker (workers/delivery), which shares src/pipeline.
 */
import { createApp } from "./api/app";
import { database } from "./db/client";
import { readConfig, type Env } from "./env";
import { sweep } from "./pipeline/sweep";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    const config = readConfig(env);
    ctx.waitUntil(
      sweep(database(env.DB), env.SEND_QUEUE, config.sweepStaleMs).then((r) => {
        if (r.reenqueued) console.log(JSON.stringify({ msg: "sweep re-enqueued", ...r }));
      }),
    );
  },
} satisfies ExportedHandler<Env>;
