/**
 * Provider delivery webhooks: `POST /webhooks/:provider/:configId` (each config's `webhookUrl`).
 * Nothing is read or changed before the request proves it comes from the provider, with that
 * config's own secrets; then its events move the communications that config was handed
 * (src/pipeline/receipts.ts says which), and the answer counts what was applied and ignored. A
 * signature whose scheme carries a nonce is accepted once: its claim (src/db/webhook-nonces.ts)
 * rides in the batch that applies the events, and a second use answers 409 having changed
 * nothing. Providers that confirm a subscription first (Meta) do so with `GET` on the same URL.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import { PROVIDERS } from "../../channels/registry";
import type { InboundMessage, InboundWebhook, ReplayKey } from "../../channels/types";
import { providerConfigForWebhook } from "../../db/providers";
import { isUniqueViolation } from "../../db/client";
import { claimNonce, nonceHeld, releaseNonce } from "../../db/webhook-nonces";
import { AppError, notFound } from "../../lib/errors";
import { readProviderConfig } from "../../pipeline/provider-configs";
import { applyProviderEvents } from "../../pipeline/track";
import { applySmsKeyword } from "../../pipeline/opt-out";
import { normaliseContact } from "../../pipeline/send-request";
import { maskContact } from "../../lib/mask";

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

/** A recipient's reply: STOP and START change what may be sent to them. */
async function applyReply(c: Context<AppEnv>, row: { tenantId: string; provider: string }, message: InboundMessage, now: Date) {
  const channel = message.from.startsWith("whatsapp:") ? "whatsapp" : "sms";
  const contact = normaliseContact(channel, message.from);
  if (!contact.ok) return;
  const outcome = await applySmsKeyword(c.var.db, row.tenantId, channel, contact.value, message.body, now);
  console.log(JSON.stringify({ msg: "inbound message", tenantId: row.tenantId, provider: row.provider, channel, from: maskContact(contact.value), outcome }));
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
  .post("/:provider/:configId/inbound", async (c) => {
    const { row, handler, request, replay } = await verified(c);
    if (!handler.parseInbound) throw notFound("webhook endpoint");
    let message;
    try {
      message = handler.parseInbound(request);
    } catch {
      throw new AppError("bad_request", `the body is not a ${row.provider} inbound message`);
    }
    // Replies are rare and STOP/START is not one batch: the claim goes first, and is given back
    // if the keyword could not be applied, so the provider's retry is not taken for a replay.
    if (replay) await c.env.DB.batch(claimNonce(c.env.DB, row.id, replay, request.now)).catch((error) => replayed(c, row.id, replay, request.now, error));
    try {
      await applyReply(c, row, message, request.now);
    } catch (error) {
      if (replay) await releaseNonce(c.env.DB, row.id, replay);
      throw error;
    }
    // An empty TwiML answer: Twilio sends its own compliance replies to STOP and HELP.
    return c.body('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', 200, { "content-type": "text/xml" });
  })
  .post("/:provider/:configId", async (c) => {
    const { db } = c.var;
    const { row, handler, request, replay } = await verified(c);

    let events, replies;
    try {
      events = handler.parse(request);
      replies = handler.parseReplies?.(request) ?? [];
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
    for (const reply of replies) await applyReply(c, row, reply, request.now);
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
