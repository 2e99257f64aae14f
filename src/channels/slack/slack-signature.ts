/**
 * Slack's request signing (Events API, interactivity, slash commands): `X-Slack-Signature` is
 * `v0=` + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body)),
 * and Slack asks receivers to refuse a timestamp more than five minutes from now. The signature
 * covers the timestamp and the body, so one signed request is accepted once (its signature is
 * the replay key, held while the timestamp is in the window). Slack's own retries of an event
 * (`X-Slack-Retry-Num`) are signed afresh with a new timestamp: they pass here and are stored
 * once by message id (the conversations' dedupe), not refused as replays.
 */
import type { ReplayKey, Verification } from "../types";
import type { InboundRequest } from "../inbound/types";
import { constantTimeEqual, hmac } from "../../lib/crypto";
import { unixSeconds, withinWindow } from "../webhook-time";
import { hexEncode } from "../../lib/hex";

export const SIGNATURE_HEADER = "x-slack-signature";
export const TIMESTAMP_HEADER = "x-slack-request-timestamp";
/** Slack's documented window: "more than five minutes from local time" is a possible replay. */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

/** The `X-Slack-Signature` Slack sends for this timestamp and body. */
export async function slackSignature(signingSecret: string, timestamp: string, rawBody: string): Promise<string> {
  return `v0=${hexEncode(await hmac("SHA-256", signingSecret, `v0:${timestamp}:${rawBody}`))}`;
}

export async function verifySlackRequest(request: Pick<InboundRequest, "headers" | "rawBody" | "now">, signingSecret: string | undefined): Promise<Verification> {
  if (!signingSecret) return { ok: false, reason: "no signingSecret is configured for this Slack app (Basic Information → App Credentials → Signing Secret)" };
  const signature = request.headers.get(SIGNATURE_HEADER);
  const timestamp = request.headers.get(TIMESTAMP_HEADER);
  if (!signature) return { ok: false, reason: "missing X-Slack-Signature" };
  if (!timestamp) return { ok: false, reason: "missing X-Slack-Request-Timestamp" };
  const at = unixSeconds(timestamp);
  if (at === undefined || !withinWindow(at, request.now, REPLAY_WINDOW_SECONDS)) return { ok: false, reason: "X-Slack-Request-Timestamp is more than 5 minutes from now" };
  const expected = await slackSignature(signingSecret, timestamp, request.rawBody);
  return constantTimeEqual(signature, expected) ? { ok: true } : { ok: false, reason: "wrong signature" };
}

/** Called once the request verified: its signature, held until its timestamp leaves the window. */
export async function slackReplayKey(request: Pick<InboundRequest, "headers">): Promise<ReplayKey> {
  const timestamp = Number(request.headers.get(TIMESTAMP_HEADER));
  return { nonce: `sig:${request.headers.get(SIGNATURE_HEADER)}`, expiresAt: new Date((timestamp + REPLAY_WINDOW_SECONDS) * 1000) };
}
