/**
 * Provider delivery webhooks: `POST /webhooks/:provider/:configId` (each config's `webhookUrl`).
 * Nothing is read or changed before the request proves it comes from the provider, with that
 * config's own secrets; then its events move the communications that config was handed
 * (src/pipeline/receipts.ts says which), and the answer counts what was applied and ignored. A
 * signature whose scheme carries a nonce is accepted once: its claim (src/db/webhook-nonces.ts)
 * rides in the batch that applies the events, and a second use answers 409 having changed
 * nothing. Providers that confirm a subscription first (Meta) do so with `GET` on the same URL.
 * Meta posts the messages customers send to this URL too: they go to `receiveInbound` as the
 * inbound routes' do (inbound-webhooks.ts), after the statuses are applied.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import { PROVIDERS } from "../../channels/registry";
import type { InboundWebhook, ReplayKey } from "../../channels/types";
import { INBOUND } from "../../channels/inbound/registry";
import { receiveInbound } from "../../conversations/inbound";
import { handleInbound, parseInbound } from "./inbound-webhooks";
import { providerConfigForWebhook } from "../../db/providers";
import { isUniqueViolation } from "../../db/client";
import { claimNonce, nonceHeld } from "../../db/webhook-nonces";
import { AppError, notFound } from "../../lib/errors";
import { readProviderConfig } from "../../pipeline/provider-configs";
import { applyProviderEvents } from "../../pipeline/track";

/** Finds the config a webhook URL names and proves the request came from its provider. */
async function verified(c: Context<AppEnv>) {
  const { db, config } = c.var;
  const row = await providerConfigForWebhook(db, c.req.param("configId")!);
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
  // For the request's log line (request-log.ts): the tenant is known once the config is.
  c.set("tenantId", row.tenantId);
  const { credentials, settings } = await readProviderConfig(config.encryptionKey, row);
  const verdict = await definition.webhook.verify(request, credentials, settings);
  if (!verdict.ok) {
    throw new AppError(/missing/.test(verdict.reason) ? "unauthorized" : "forbidden", `webhook rejected: ${verdict.reason}`);
  }
  const replay = await definition.webhook.replayKey?.(request);
  return { row, handler: definition.webhook, request, replay };
}

/** After a batch carrying a nonce claim failed: a replay is a 409, anything else stays an error. */
async function replayed(c: Context<AppEnv>, scope: string, replay: ReplayKey | undefined, now: Date, error: unknown): Promise<never> {
  if (replay && isUniqueViolation(error) && (await nonceHeld(c.env.DB, scope, replay.nonce, now))) {
    throw new AppError("conflict", "webhook rejected: this signature was already used (a replayed request)");
  }
  throw error;
}

export const providerWebhooks = new Hono<AppEnv>()
  .get("/:provider/:configId", async (c) => {
    const row = await providerConfigForWebhook(c.var.db, c.req.param("configId"));
    const handler = row && row.provider === c.req.param("provider") ? PROVIDERS[row.provider].webhook : undefined;
    if (!row || !handler?.challenge) throw notFound("webhook endpoint");
    const { credentials, settings } = await readProviderConfig(c.var.config.encryptionKey, row);
    const answer = handler.challenge(new URL(c.req.url).searchParams, credentials, settings);
    if (answer === undefined) throw new AppError("forbidden", "webhook subscription refused: the verify token does not match this config's webhookVerifyToken");
    return c.text(answer);
  })
  // The first inbound URL (SMS STOP/START before conversations): the same route as /webhooks/inbound/….
  .post("/:provider/:configId/inbound", (c) => handleInbound(c, c.req.param("provider"), c.req.param("configId")))
  .post("/:provider/:configId", async (c) => {
    const { db } = c.var;
    const { row, handler, request, replay } = await verified(c);

    let events;
    try {
      events = handler.parse(request);
    } catch {
      throw new AppError("bad_request", `the body is not a ${row.provider} event payload`);
    }
    const outcome = await applyProviderEvents(
      db,
      c.env.DB,
      c.env.EVENT_QUEUE,
      { tenantId: row.tenantId, configId: row.id, channel: row.channel, provider: row.provider },
      events,
      request.now,
      replay ? claimNonce(c.env.DB, row.id, replay, request.now) : [],
    ).catch((error) => replayed(c, row.id, replay, request.now, error));
    // Meta posts what customers send to this same URL: they are received as at /webhooks/inbound/….
    const replies = INBOUND[row.provider] && row.provider.startsWith("meta_") ? await parseInbound(row, INBOUND[row.provider]!, { ...request, bytes: new TextEncoder().encode(request.rawBody) }) : [];
    if (replies.length) await receiveInbound(c.env, row.tenantId, replies);
    // The same communication ids (and the request's trace) as the API and consumer lines.
    console.log(
      JSON.stringify({
        msg: "provider webhook",
        requestId: c.var.requestId,
        traceId: c.var.traceId,
        tenantId: row.tenantId,
        provider: row.provider,
        ...outcome,
        events: events.slice(0, 50).map((e) => ({ communicationId: e.communicationId, providerMessageId: e.providerMessageId, status: e.status })),
      }),
    );
    // 200 whatever was ignored: the request was the provider's own, and a retry would change nothing.
    return c.json(outcome);
  });
