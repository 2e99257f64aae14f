/**
 * Twilio Programmable Messaging (`POST /2010-04-01/Accounts/{sid}/Messages.json`, HTTP Basic,
 * form-encoded). One adapter serves SMS, WhatsApp (`whatsapp:` addresses) and Messenger
 * (`messenger:` addresses). Twilio has no metadata field, so the status callback URL carries our
 * communication id; it is part of what Twilio signs.
 */
import { z } from "zod";
import type { Channel } from "../../domain";
import { classifyHttpStatus, baseSettings } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome } from "../types";
import { base64Encode } from "../../lib/base64";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { twilioWebhook } from "./twilio-webhook";

const credentials = z.object({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be an AC… Account SID"),
  authToken: z.string().min(1),
  /** Production accounts should send with an API key (SK…); the auth token still signs webhooks. */
  apiKeySid: z.string().regex(/^SK[0-9a-fA-F]{32}$/).optional(),
  apiKeySecret: z.string().min(1).optional(),
});
const settings = baseSettings
  .extend({
    from: z.string().min(1).optional(),
    messagingServiceSid: z.string().regex(/^MG[0-9a-fA-F]{32}$/).optional(),
  })
  .refine((s) => s.from || s.messagingServiceSid, { message: "from or messagingServiceSid is required", path: ["from"] });
type Credentials = z.infer<typeof credentials>;
type Settings = z.infer<typeof settings>;

const ADDRESS_PREFIX: Partial<Record<Channel, string>> = { whatsapp: "whatsapp:", messenger: "messenger:" };
const address = (channel: Channel, value: string) => {
  const prefix = ADDRESS_PREFIX[channel] ?? "";
  return value.startsWith(prefix) ? value : prefix + value;
};

export function twilioRequest(message: OutboundMessage, c: Credentials, s: Settings) {
  const form = new URLSearchParams();
  form.set("To", address(message.channel, message.to));
  if (s.messagingServiceSid) form.set("MessagingServiceSid", s.messagingServiceSid);
  else form.set("From", address(message.channel, s.from!));
  form.set("Body", message.content);
  form.set("StatusCallback", message.statusCallbackUrl);
  for (const a of message.attachments) if (a.fileUrl) form.append("MediaUrl", a.fileUrl);
  const user = c.apiKeySid && c.apiKeySecret ? `${c.apiKeySid}:${c.apiKeySecret}` : `${c.accountSid}:${c.authToken}`;
  return {
    url: joinBase(s.baseUrl ?? "https://api.twilio.com", `/2010-04-01/Accounts/${c.accountSid}/Messages.json`),
    init: {
      method: "POST",
      headers: { authorization: `Basic ${base64Encode(user)}`, "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    } satisfies RequestInit,
  };
}

// Error codes whose HTTP status alone would mislead (https://www.twilio.com/docs/api/errors).
const CODE_KINDS: Record<number, FailureKind> = {
  20429: "retryable", // too many concurrent requests: never processed, always safe to retry
  63018: "retryable", // WhatsApp rate limit
  20003: "provider", // authentication
  21606: "provider", // From number cannot send SMS
};

export const twilio = defineProvider({
  kind: "twilio",
  channels: ["sms", "whatsapp", "messenger"],
  credentials,
  settings,
  webhook: twilioWebhook,
  // Every send names our StatusCallback.
  reportsDelivery: () => true,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const { url, init } = twilioRequest(message, c, s);
      const res = await fetchWithTimeout(url, init, s.timeoutMs);
      const text = await res.text();
      let body: { sid?: string; code?: number; message?: string } = {};
      try {
        body = JSON.parse(text);
      } catch {
        // A non-JSON answer is classified by status alone.
      }
      if (res.ok && body.sid) return { ok: true, providerMessageId: body.sid, httpStatus: res.status };
      if (res.ok) return { ok: false, failure: "retryable", reason: "Twilio answered without a message sid", httpStatus: res.status };
      const kind = (body.code && CODE_KINDS[body.code]) || classifyHttpStatus(res.status);
      return {
        ok: false,
        failure: kind,
        reason: `Twilio answered ${res.status}${body.code ? ` (error ${body.code})` : ""}${body.message ? `: ${body.message}` : ""}`,
        httpStatus: res.status,
        retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")),
      };
    },
  }),
});
