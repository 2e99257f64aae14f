/**
 * Mailgun Messages API (`POST /v3/{domain}/messages`, HTTP Basic `api:<key>`, multipart form).
 * The region picks the host (US `api.mailgun.net`, EU `api.eu.mailgun.net`); a domain lives in
 * one region and the other answers 404 for it. Our ids travel as `v:` custom variables, which
 * Mailgun echoes in every webhook as `user-variables` (they are visible in the message headers,
 * so they carry ids only).
 */
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { base64Decode, base64Encode } from "../../lib/base64";
import { bodies, COMMUNICATION_TAG, inlineAttachments, mailbox, readJson, TENANT_TAG } from "./parts";
import { mailgunWebhook } from "./mailgun-webhook";

const credentials = z.object({
  apiKey: z.string().min(1),
  /** The account's HTTP webhook signing key (not the API key); needed to accept webhooks. */
  webhookSigningKey: z.string().min(1).optional(),
});
const settings = baseSettings.extend({
  /** The sending domain as configured in Mailgun, e.g. `mg.example.com`. */
  domain: z.string().regex(/^[a-z0-9.-]+$/i, "must be a domain name"),
  region: z.enum(["us", "eu"]).default("us"),
  from: z.email(),
  replyTo: z.email().optional(),
});
type Settings = z.infer<typeof settings>;

export const MAILGUN_HOSTS = { us: "https://api.mailgun.net", eu: "https://api.eu.mailgun.net" } as const;

export function mailgunForm(message: OutboundMessage, s: Settings): FormData {
  const form = new FormData();
  form.set("from", mailbox(s.from, s.fromName));
  form.set("to", mailbox(message.to, message.recipientName));
  if (message.subject) form.set("subject", message.subject);
  const { html, text } = bodies(message);
  if (text) form.set("text", text);
  if (html) form.set("html", html);
  const replyTo = message.replyTo ?? s.replyTo;
  if (replyTo) form.set("h:Reply-To", replyTo);
  for (const [name, value] of Object.entries(message.headers ?? {})) form.set(`h:${name}`, value);
  form.set(`v:${COMMUNICATION_TAG}`, message.communicationId);
  form.set(`v:${TENANT_TAG}`, message.tenantId);
  // Herald tracks (or nobody does): Mailgun must not rewrite links or add its own pixel.
  if (message.tracking && message.tracking !== "provider") {
    form.set("o:tracking-clicks", "no");
    form.set("o:tracking-opens", "no");
  }
  for (const a of inlineAttachments(message)) {
    form.append("attachment", new Blob([base64Decode(a.content)], { type: a.mimeType ?? "application/octet-stream" }), a.filename);
  }
  return form;
}

/** 402 (plan), 404 (a domain this key or region does not have): this config cannot send. */
function classify(status: number): FailureKind {
  return status === 402 || status === 404 ? "provider" : classifyHttpStatus(status);
}

export const mailgun = defineProvider({
  kind: "mailgun",
  channels: ["email"],
  credentials,
  settings,
  webhook: mailgunWebhook,
  // Mailgun signs its webhooks; without the signing key Herald refuses them, so no receipt comes.
  reportsDelivery: (_s, c) => !!c.webhookSigningKey,
  create: (c, s) => ({
    async send(message): Promise<SendOutcome> {
      const res = await fetchWithTimeout(
        joinBase(s.baseUrl ?? MAILGUN_HOSTS[s.region], `/v3/${encodeURIComponent(s.domain)}/messages`),
        { method: "POST", headers: { authorization: `Basic ${base64Encode(`api:${c.apiKey}`)}` }, body: mailgunForm(message, s) },
        s.timeoutMs,
      );
      const body = await readJson<{ id?: string; message?: string }>(res);
      if (res.ok) {
        // `<20261123...@mg.example.com>`; webhooks carry it without the angle brackets. Accepted
        // is accepted even without an id: our own id in `v:` still joins the webhooks back.
        const id = body?.id?.replace(/^<|>$/g, "");
        return { ok: true, providerMessageId: id || `mailgun-${message.communicationId}`, httpStatus: res.status };
      }
      return {
        ok: false,
        failure: classify(res.status),
        reason: `Mailgun answered ${res.status}${body?.message ? `: ${body.message}` : ""}`,
        httpStatus: res.status,
        retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")),
      };
    },
  }),
});
