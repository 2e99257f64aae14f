/**
 * Provider delivery webhooks: `POST /webhooks/:provider/:configId` (each config's `webhookUrl`).
 * Nothing is read or changed before the request proves it comes from the provider, with that
 * config's own secrets; then its events move communications through their states.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { PROVIDERS } from "../../channels/registry";
import type { InboundWebhook } from "../../channels/types";
import { providerConfigForWebhook } from "../../db/providers";
import { AppError, notFound } from "../../lib/errors";
import { readProviderConfig } from "../../pipeline/provider-configs";
import { applyProviderEvents } from "../../pipeline/track";

export const providerWebhooks = new Hono<AppEnv>().post("/:provider/:configId", async (c) => {
  const { db, config } = c.var;
  const row = await providerConfigForWebhook(db, c.req.param("configId"));
  const definition = row && row.provider === c.req.param("provider") ? PROVIDERS[row.provider] : undefined;
  if (!row || !definition?.webhook) throw notFound("webhook endpoint");

  const incoming = new URL(c.req.url);
  const request: InboundWebhook = {
    // The URL we gave the provider: behind a custom domain the Worker may see another host.
    url: `${config.publicUrl}${incoming.pathname}${incoming.search}`,
    rawBody: await c.req.text(),
    headers: c.req.raw.headers,
    now: new Date(),
  };
  const { credentials, settings } = await readProviderConfig(config.encryptionKey, row);
  const verdict = await definition.webhook.verify(request, credentials, settings);
  if (!verdict.ok) {
    throw new AppError(/missing/.test(verdict.reason) ? "unauthorized" : "forbidden", `webhook rejected: ${verdict.reason}`);
  }

  let events;
  try {
    events = definition.webhook.parse(request);
  } catch {
    throw new AppError("bad_request", `the body is not a ${row.provider} event payload`);
  }
  const { moved } = await applyProviderEvents(
    db,
    c.env.DB,
    c.env.EVENT_QUEUE,
    { tenantId: row.tenantId, configId: row.id, provider: row.provider },
    events,
    request.now,
  );
  return c.json({ received: events.length, moved });
});
