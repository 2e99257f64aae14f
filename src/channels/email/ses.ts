/**
 * Amazon SES API v2 `SendEmail` (`POST /v2/email/outbound-emails`, JSON), signed with AWS
 * Signature Version 4 by `aws4fetch`. Its built-in retry loop is switched off: failover and
 * back-off are the pipeline's. Our ids travel as `EmailTags`, which come back in every event as
 * `mail.tags`; events need a configuration set with an SNS destination (see ses-webhook.ts).
 * Open and click tracking are the configuration set's, not per message.
 */
import { AwsClient } from "aws4fetch";
import { z } from "zod";
import { baseSettings, classifyHttpStatus } from "../settings";
import { defineProvider, type FailureKind, type OutboundMessage, type SendOutcome } from "../types";
import { fetchWithTimeout, joinBase, parseRetryAfter } from "../../lib/http";
import { asciiMailbox, bodies, COMMUNICATION_TAG, inlineAttachments, readJson, TENANT_TAG } from "./parts";
import { sesWebhook } from "./ses-webhook";

const credentials = z.object({
  accessKeyId: z.string().min(16),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
});
const settings = baseSettings.extend({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "must be an AWS region such as eu-west-1"),
  from: z.email(),
  replyTo: z.email().optional(),
  /** The configuration set whose event destination publishes to `snsTopicArn`. */
  configurationSetName: z.string().min(1).optional(),
  /** Events are accepted from this SNS topic only; without it, SES webhooks are refused. */
  snsTopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, "must be an SNS topic ARN").optional(),
});
type Settings = z.infer<typeof settings>;

const utf8 = (Data: string) => ({ Data, Charset: "UTF-8" });

export function sesRequestBody(message: OutboundMessage, s: Settings) {
  const { html, text } = bodies(message);
  const headers = Object.entries(message.headers ?? {}).map(([Name, Value]) => ({ Name, Value }));
  const attachments = inlineAttachments(message).map((a) => ({
    FileName: a.filename,
    RawContent: a.content,
    ContentDisposition: "ATTACHMENT",
    ...(a.mimeType ? { ContentType: a.mimeType } : {}),
  }));
  return {
    // SES puts these into the MIME headers as given: non-ASCII names must be encoded-words.
    FromEmailAddress: asciiMailbox(s.from, s.fromName),
    Destination: { ToAddresses: [asciiMailbox(message.to, message.recipientName)] },
    ...((message.replyTo ?? s.replyTo) ? { ReplyToAddresses: [message.replyTo ?? s.replyTo] } : {}),
    Content: {
      Simple: {
        Subject: utf8(message.subject ?? ""),
        Body: { ...(text ? { Text: utf8(text) } : {}), ...(html ? { Html: utf8(html) } : {}) },
        ...(headers.length ? { Headers: headers } : {}),
        ...(attachments.length ? { Attachments: attachments } : {}),
      },
    },
    EmailTags: [
      { Name: COMMUNICATION_TAG, Value: message.communicationId },
      { Name: TENANT_TAG, Value: message.tenantId },
    ],
    ...(s.configurationSetName ? { ConfigurationSetName: s.configurationSetName } : {}),
  };
}

// The SendEmail errors of the SES v2 model, plus AWS's common auth errors.
const TYPE_KINDS: Record<string, FailureKind> = {
  ThrottlingException: "retryable", // "Maximum sending rate exceeded" / "Daily message quota exceeded"
  TooManyRequestsException: "retryable",
  InternalFailure: "retryable",
  ServiceUnavailable: "retryable",
  MailFromDomainNotVerifiedException: "provider",
  AccountSuspendedException: "provider",
  SendingPausedException: "provider",
  NotFoundException: "provider", // e.g. the configuration set does not exist
  LimitExceededException: "provider",
  UnrecognizedClientException: "provider",
  InvalidSignatureException: "provider",
  SignatureDoesNotMatch: "provider",
  AccessDeniedException: "provider",
  ExpiredTokenException: "provider",
  MessageRejected: "permanent",
  BadRequestException: "permanent",
};

function classify(status: number, type: string, text: string): FailureKind {
  // An unverified sender, or a recipient while the account is in the sandbox: this account cannot
  // send it, another provider can.
  if (type === "MessageRejected" && /not verified/i.test(text)) return "provider";
  return TYPE_KINDS[type] ?? classifyHttpStatus(status);
}

export const ses = defineProvider({
  kind: "ses",
  channels: ["email"],
  credentials,
  settings,
  webhook: sesWebhook,
  reportsDelivery: (s) => !!s.snsTopicArn,
  create: (c, s) => {
    const aws = new AwsClient({ ...c, service: "ses", region: s.region, retries: 0 });
    return {
      async send(message): Promise<SendOutcome> {
        const url = joinBase(s.baseUrl ?? `https://email.${s.region}.amazonaws.com`, "/v2/email/outbound-emails");
        const body = JSON.stringify(sesRequestBody(message, s));
        const signed = await aws.sign(url, { method: "POST", headers: { "content-type": "application/json" }, body });
        const res = await fetchWithTimeout(url, { method: "POST", headers: signed.headers, body }, s.timeoutMs);
        const answer = await readJson<{ MessageId?: string; message?: string; Message?: string; __type?: string }>(res);
        if (res.ok) return { ok: true, providerMessageId: answer?.MessageId ?? `ses-${message.communicationId}`, httpStatus: res.status };
        // `MessageRejected:http://internal.amazon.com/coral/…` or `com.amazonaws…#MessageRejected`.
        const type = (res.headers.get("x-amzn-errortype") ?? answer?.__type ?? "").split(":")[0]!.split("#").pop()!;
        const text = answer?.message ?? answer?.Message ?? "";
        return {
          ok: false,
          failure: classify(res.status, type, text),
          reason: `SES answered ${res.status}${type ? ` ${type}` : ""}${text ? `: ${text}` : ""}`,
          httpStatus: res.status,
          retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")),
        };
      },
    };
  },
});
