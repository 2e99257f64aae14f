/**
 * What Meta's WhatsApp Cloud API and Messenger Send API share: Graph API calls with a Bearer
 * token, Graph error bodies, and Meta's webhook delivery — the GET subscription handshake
 * (`hub.mode`/`hub.verify_token`/`hub.challenge`) and `X-Hub-Signature-256: sha256=<hex
 * HMAC-SHA256 of the raw body, keyed by the app secret>`. Messenger imports it from here.
 */
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import type { FailureKind, InboundWebhook, SendOutcome, Verification } from "../types";
import { constantTimeEqual, hmac } from "../../lib/crypto";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { hexEncode } from "../../lib/hex";

export const metaCredentials = z.object({
  /** A system-user or Page access token. */
  accessToken: z.string().min(1),
  /** The Meta app's secret: it signs webhooks. Without it, webhooks are refused. */
  appSecret: z.string().min(1).optional(),
});

export const metaSettings = baseSettings.extend({
  /** Pinned Graph API version: Meta retires each about two years after its release. */
  graphVersion: z.string().regex(/^v\d+\.\d+$/, "a Graph API version such as v23.0").default("v23.0"),
  /** The Verify Token entered beside the callback URL in the Meta app's webhook settings. */
  webhookVerifyToken: z.string().min(8).max(200).optional(),
});
type MetaSettings = z.infer<typeof metaSettings>;

export const graphUrl = (s: MetaSettings, path: string) => joinBase(s.baseUrl ?? "https://graph.facebook.com", `/${s.graphVersion}${path}`);

export type GraphError = {
  message?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { details?: string };
  is_transient?: boolean;
};
export type GraphAnswer = { status: number; headers: Headers; body: { error?: GraphError } & Record<string, unknown> };

export async function postGraph(url: string, accessToken: string, body: unknown, timeoutMs: number): Promise<GraphAnswer> {
  const res = await fetchWithTimeout(
    url,
    { method: "POST", headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" }, body: JSON.stringify(body) },
    timeoutMs,
  );
  const text = await res.text();
  let parsed: GraphAnswer["body"] = {};
  try {
    parsed = JSON.parse(text) ?? {};
  } catch {
    // A non-JSON answer (a proxy, an outage page) is classified by its status alone.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** How one Graph error code is handled, and the reason to give when Meta's own is not actionable. */
export type CodeRule = { kind: FailureKind; reason?: string; retryAfterSeconds?: number };

export function graphFailure(provider: string, answer: GraphAnswer, rule: (e: GraphError) => CodeRule | undefined): SendOutcome {
  const e = answer.body.error;
  const r = e ? rule(e) : undefined;
  const kind = r?.kind ?? (e?.is_transient ? "retryable" : classifyHttpStatus(answer.status));
  const code = e?.code === undefined ? "" : ` (error ${e.code}${e.error_subcode ? `/${e.error_subcode}` : ""})`;
  const said = e?.error_data?.details ?? e?.message;
  return {
    ok: false,
    failure: kind,
    reason: r?.reason ? `${r.reason}${code}` : `${provider} answered ${answer.status}${code}${said ? `: ${said}` : ""}`,
    httpStatus: answer.status,
    retryAfterSeconds: parseRetryAfter(answer.headers.get("retry-after")) ?? r?.retryAfterSeconds,
  };
}

export const SIGNATURE_HEADER = "x-hub-signature-256";

/** The `X-Hub-Signature-256` value Meta sends with this body. */
export const hubSignature = async (appSecret: string, rawBody: string) => `sha256=${hexEncode(await hmac("SHA-256", appSecret, rawBody))}`;

export async function verifyHubSignature(request: InboundWebhook, appSecret: string | undefined): Promise<Verification> {
  if (!appSecret) return { ok: false, reason: "no appSecret is configured for this provider" };
  const given = request.headers.get(SIGNATURE_HEADER);
  if (!given) return { ok: false, reason: "missing X-Hub-Signature-256" };
  // No timestamp is signed, so there is no replay window: events are deduplicated instead.
  return constantTimeEqual(given.toLowerCase(), await hubSignature(appSecret, request.rawBody)) ? { ok: true } : { ok: false, reason: "bad signature" };
}

/** Meta's subscription handshake: echo `hub.challenge` when the verify token is ours. */
export function hubChallenge(query: URLSearchParams, verifyToken: string | undefined): string | undefined {
  const token = query.get("hub.verify_token");
  const challenge = query.get("hub.challenge");
  if (query.get("hub.mode") !== "subscribe" || !verifyToken || !token || !challenge) return undefined;
  // Meta sends a number; we echo nothing else, so the endpoint cannot reflect arbitrary text.
  if (!/^[\w.-]{1,128}$/.test(challenge)) return undefined;
  return constantTimeEqual(token, verifyToken) ? challenge : undefined;
}
