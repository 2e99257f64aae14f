/**
 * Inbound provider routes: `POST /webhooks/inbound/:provider/:configId` (and SendGrid Parse's
 * `…/:configId/:secret`), where providers post what customers send. As for delivery webhooks
 * (provider-webhooks.ts), nothing is read or changed before the request proves it is the
 * provider's, with the secrets of the config the URL names; the tenant is that config's, so a
 * request signed for one tenant's config cannot land in another's. A scheme that signs a nonce
 * (Vonage, Mailgun) accepts it once: the claim is committed before the batch is received and
 * given back if receiving fails, so the provider's retry is not taken for a replay. The parsed
 * batch goes to `receiveInbound` (src/conversations/inbound.ts) in one call. A verified setup
 * request (Slack's `url_verification`) is answered with the handler's `handshake` text instead.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import { PROVIDERS } from "../../channels/registry";
import { INBOUND } from "../../channels/inbound/registry";
import type { InboundHandler, InboundRequest } from "../../channels/inbound/types";
import type { ReplayKey } from "../../channels/types";
import { receiveInbound, type InboundMessage } from "../../conversations/inbound";
import { providerConfigForWebhook, type ProviderConfigRow } from "../../db/providers";
import { isUniqueViolation } from "../../db/client";
import { claimNonce, nonceHeld, releaseNonce } from "../../db/webhook-nonces";
import { AppError, notFound } from "../../lib/errors";
import { readProviderConfig } from "../../pipeline/provider-configs";

type Handler = (typeof INBOUND)[string];

/** The config a URL names, if its provider forwards replies. */
async function inboundConfig(c: Context<AppEnv>, provider: string, configId: string, withSecret: boolean) {
  const row = await providerConfigForWebhook(c.var.db, configId);
  const handler = row && row.provider === provider && row.provider in PROVIDERS ? INBOUND[row.provider] : undefined;
  if (!row || !handler || (withSecret && !handler.pathSecret)) throw notFound("webhook endpoint");
  return { row, handler };
}

/** The request as its provider sent it, to the URL we gave it (behind a custom domain the Worker may see another host). */
export async function inboundRequest(c: Context<AppEnv>, pathSecret?: string): Promise<InboundRequest> {
  const incoming = new URL(c.req.url);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  return {
    url: `${c.var.config.publicUrl}${incoming.pathname}${incoming.search}`,
    rawBody: new TextDecoder().decode(bytes),
    bytes,
    headers: c.req.raw.headers,
    now: new Date(),
    ...(pathSecret !== undefined ? { pathSecret } : {}),
  };
}

/** Proves the request is the provider's for this config; then its replay key, if it signs one. */
export async function verifyInbound(c: Context<AppEnv>, row: ProviderConfigRow, handler: Handler, request: InboundRequest) {
  // For the request's log line (request-log.ts): the tenant is known once the config is.
  c.set("tenantId", row.tenantId);
  const { credentials, settings } = await readProviderConfig(c.var.config.encryptionKey, row);
  const verdict = await handler.verify(request, credentials as Record<string, unknown>, settings as Record<string, unknown>);
  if (!verdict.ok) throw new AppError(/missing/.test(verdict.reason) ? "unauthorized" : "forbidden", `webhook rejected: ${verdict.reason}`);
  return handler.replayKey?.(request);
}

export async function parseInbound(row: ProviderConfigRow, handler: Handler, request: InboundRequest): Promise<InboundMessage[]> {
  try {
    return await handler.parse(request, { id: row.id, tenantId: row.tenantId, channel: row.channel });
  } catch {
    // Mailgun retries anything but a 406 for hours; a body it will never make valid is not worth it.
    throw new AppError(handler.replayStatus === 406 ? "not_acceptable" : "bad_request", `the body is not a ${row.provider} inbound message`);
  }
}

/** Claims the replay key, receives the batch, gives the claim back if receiving failed. */
async function receiveOnce(c: Context<AppEnv>, row: ProviderConfigRow, handler: InboundHandler<unknown, unknown>, replay: ReplayKey | undefined, messages: InboundMessage[], now: Date) {
  const d1 = c.env.DB;
  if (replay) {
    await d1.batch(claimNonce(d1, row.id, replay, now)).catch(async (error) => {
      if (isUniqueViolation(error) && (await nonceHeld(d1, row.id, replay.nonce, now))) {
        throw new AppError(handler.replayStatus === 406 ? "not_acceptable" : "conflict", "webhook rejected: this signature was already used (a replayed request)");
      }
      throw error;
    });
  }
  try {
    return await receiveInbound(c.env, row.tenantId, messages);
  } catch (error) {
    if (replay) await releaseNonce(d1, row.id, replay);
    throw error;
  }
}

/** The whole inbound request: verify, parse, receive once, answer as the provider expects. */
export async function handleInbound(c: Context<AppEnv>, provider: string, configId: string, pathSecret?: string) {
  const { row, handler } = await inboundConfig(c, provider, configId, pathSecret !== undefined);
  const request = await inboundRequest(c, pathSecret);
  const replay = await verifyInbound(c, row, handler, request);
  const handshake = handler.handshake?.(request);
  if (handshake !== undefined) return c.text(handshake);
  const messages = await parseInbound(row, handler, request);
  const results = await receiveOnce(c, row, handler, replay, messages, request.now);
  const stored = results.filter((r) => r.status === "stored").length;
  console.log(JSON.stringify({ msg: "inbound messages", requestId: c.var.requestId, tenantId: row.tenantId, provider: row.provider, received: messages.length, stored, duplicates: results.length - stored }));
  // An empty TwiML answer: Twilio sends its own compliance replies to STOP and HELP.
  if (handler.answer === "twiml") return c.body('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', 200, { "content-type": "text/xml" });
  return c.json({ received: messages.length, stored, duplicates: results.length - stored });
}

export const inboundWebhooks = new Hono<AppEnv>()
  .post("/:provider/:configId", (c) => handleInbound(c, c.req.param("provider"), c.req.param("configId")))
  .post("/:provider/:configId/:secret", (c) => handleInbound(c, c.req.param("provider"), c.req.param("configId"), c.req.param("secret")));
