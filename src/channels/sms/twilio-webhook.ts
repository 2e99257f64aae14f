/**
 * Twilio status callbacks (SMS, WhatsApp, Messenger). `X-Twilio-Signature` is
 * base64(HMAC-SHA1(auth token, URL + each POST param's name and value, sorted by name)). The URL
 * is the one we gave Twilio, whose `c` parameter carries our communication id.
 */
import { z } from "zod";
import type { ProviderEvent, Verification, WebhookHandler } from "../types";
import { constantTimeEqual, hmac } from "../../lib/crypto";
import { base64Encode } from "../../lib/base64";
import type { TrackedStatus } from "../../pipeline/status";
import { own } from "../../lib/own";

export async function twilioSignature(authToken: string, url: string, params: URLSearchParams): Promise<string> {
  const names = [...new Set(params.keys())].sort();
  let data = url;
  // Repeated params (MediaUrl): Twilio's own validator drops duplicate values before sorting.
  for (const name of names) for (const value of [...new Set(params.getAll(name))].sort()) data += name + value;
  return base64Encode(await hmac("SHA-1", authToken, data));
}

const Callback = z.object({ MessageSid: z.string().min(1), MessageStatus: z.string().min(1), ErrorCode: z.string().optional() }).loose();

/** Error codes that mean the number cannot or must not be messaged again. */
const SUPPRESSING_CODES: Record<string, { reason: "opt_out" | "invalid"; detail: string }> = {
  "21610": { reason: "opt_out", detail: "recipient replied STOP" },
  "30005": { reason: "invalid", detail: "unknown destination handset" },
  "30006": { reason: "invalid", detail: "landline or unreachable carrier" },
};

const STATUS: Record<string, TrackedStatus | null> = {
  accepted: null,
  scheduled: null,
  queued: null,
  sending: null,
  sent: "sent",
  delivered: "delivered",
  read: "opened",
  undelivered: "failed",
  failed: "failed",
  canceled: "failed",
  partially_delivered: "delivered",
};

export const twilioWebhook: WebhookHandler<{ authToken: string }, unknown> = {
  async verify(request, credentials): Promise<Verification> {
    const given = request.headers.get("x-twilio-signature");
    if (!given) return { ok: false, reason: "missing X-Twilio-Signature" };
    const expected = await twilioSignature(credentials.authToken, request.url, new URLSearchParams(request.rawBody));
    return constantTimeEqual(given, expected) ? { ok: true } : { ok: false, reason: "bad signature" };
  },
  parse(request): ProviderEvent[] {
    const form = Callback.parse(Object.fromEntries(new URLSearchParams(request.rawBody)));
    const status = own(STATUS, form.MessageStatus) ?? null;
    const code = form.ErrorCode && form.ErrorCode !== "0" ? form.ErrorCode : undefined;
    const suppress = code ? own(SUPPRESSING_CODES, code) : undefined;
    return [
      {
        communicationId: new URL(request.url).searchParams.get("c"),
        providerMessageId: form.MessageSid,
        status,
        name: form.MessageStatus,
        occurredAt: request.now,
        dedupeKey: `twilio:${form.MessageSid}:${form.MessageStatus}`,
        ...(status === "failed" ? { error: `Twilio reported ${form.MessageStatus}${code ? ` (error ${code})` : ""}` } : {}),
        ...(suppress ? { suppress } : {}),
        detail: code ? { errorCode: code } : {},
      },
    ];
  },
};
