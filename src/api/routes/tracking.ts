/**
 * The open pixel and click redirect behind Herald's own tracking (`/t/o/:token`, `/t/c/:token`).
 * No API key: the signed token is the credential. The first open/click sets openedAt/clickedAt
 * through the same forward-only rule as provider events; every hit is counted.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { countEngagement } from "../../db/tracking";
import { notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { base64Decode } from "../../lib/base64";
import { verifyToken } from "../../pipeline/tracking-links";
import { applyProviderEvents } from "../../pipeline/track";

// The smallest transparent GIF.
const PIXEL = base64Decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

export const tracking = new Hono<AppEnv>()
  .get("/o/:token", async (c) => {
    const token = await verifyToken(c.var.config.encryptionKey, c.req.param("token"));
    if (!token || token.k !== "o") throw notFound("tracking link");
    await record(c, token.t, token.c, "opened");
    return new Response(PIXEL, { headers: { "content-type": "image/gif", "cache-control": "no-store, max-age=0" } });
  })
  .get("/c/:token", async (c) => {
    const token = await verifyToken(c.var.config.encryptionKey, c.req.param("token"));
    if (!token || token.k !== "c" || !token.u) throw notFound("tracking link");
    await record(c, token.t, token.c, "clicked", token.u);
    return c.redirect(token.u, 302);
  });

async function record(c: { var: AppEnv["Variables"]; env: AppEnv["Bindings"] }, tenantId: string, communicationId: string, status: "opened" | "clicked", url?: string) {
  const now = new Date();
  await applyProviderEvents(
    c.var.db,
    c.env.DB,
    c.env.EVENT_QUEUE,
    { tenantId, configId: null, provider: "herald" },
    [
      {
        communicationId,
        providerMessageId: null,
        status,
        name: status === "opened" ? "open" : "click",
        occurredAt: now,
        dedupeKey: `herald:${uuidv7()}`,
        detail: url ? { url } : {},
      },
    ],
    now,
    [countEngagement(c.env.DB, tenantId, communicationId, status)],
  );
}
