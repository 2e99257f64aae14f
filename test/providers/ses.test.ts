import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, captureQueue, createTenant, json, mockProviders, type RecordedRequest } from "../helpers";
import { PROVIDERS } from "../../src/channels/registry";
import { SNS_CERT_URL, SNS_CERTIFICATE, snsBody, snsHeaders, type SnsFields } from "./email-signing";
import { detail, outbound, postWebhook, providerEvents, sendAndDeliver, suppressions } from "./support";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:herald-ses-events";
const SES = (settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}) => ({
  channel: "email",
  provider: "ses",
  priority: 1,
  credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ...credentials },
  settings: { region: "eu-west-1", from: "billing@acme.test", fromName: "Acme Billing", configurationSetName: "herald", snsTopicArn: TOPIC, ...settings },
});
const MESSAGE_ID = "0102018f6b7a1c2d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000";
const accepts = (id = MESSAGE_ID) => json(200, { MessageId: id });
const fails = (status: number, type: string, message: string) => json(status, { message }, { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/` });

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});

const adapter = (settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}) => {
  const def = PROVIDERS.ses;
  const config = SES(settings, credentials);
  return def.create(def.credentials.parse(config.credentials), def.settings.parse(config.settings));
};

describe("the SES v2 adapter", () => {
  it("posts SendEmail to the region's endpoint, SigV4-signed for ses in that region", async () => {
    await addProvider(key, SES());
    const net = mockProviders({ "https://email.eu-west-1.amazonaws.com": accepts() });
    const id = await sendAndDeliver(key, queue);

    expect(net.requests).toHaveLength(1);
    const req = net.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails");
    expect(req.headers.get("content-type")).toBe("application/json");
    const amzDate = req.headers.get("x-amz-date")!;
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    expect(req.headers.get("authorization")).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/${amzDate.slice(0, 8)}/eu-west-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$`),
    );
    expect(JSON.parse(req.body)).toEqual({
      FromEmailAddress: "Acme Billing <billing@acme.test>",
      Destination: { ToAddresses: ["Ann Lee <ann@example.com>"] },
      Content: {
        Simple: {
          Subject: { Data: "Invoice INV-1", Charset: "UTF-8" },
          Body: { Text: { Data: "Total: $10", Charset: "UTF-8" }, Html: { Data: "<p>Total: <b>$10</b></p>", Charset: "UTF-8" } },
        },
      },
      EmailTags: [
        { Name: "herald_communication_id", Value: id },
        { Name: "herald_tenant_id", Value: tenantId },
      ],
      ConfigurationSetName: "herald",
    });
    expect(await detail(key, id)).toMatchObject({ status: "sent", provider: "ses", providerMessageId: MESSAGE_ID });
  });

  it("signs the session token of temporary credentials, encodes a non-ASCII sender name, passes headers and attachments", async () => {
    const net = mockProviders({ "https://email.eu-west-1.amazonaws.com": accepts() });
    const outcome = await adapter({ fromName: "Café Zoë", replyTo: "help@acme.test" }, { sessionToken: "session-token-xyz" }).send(
      outbound({
        // Specials are quoted; a line break never reaches a header.
        recipientName: 'Lee, Ann\r\n"AL"',
        headers: { "List-Unsubscribe": "<https://herald.test/u/t>" },
        attachments: [
          { filename: "a.pdf", content: "JVBERi0=", mimeType: "application/pdf" },
          { filename: "c.png", fileUrl: "https://cdn.acme.test/c.png" },
        ],
      }),
    );
    expect(outcome).toMatchObject({ ok: true, providerMessageId: MESSAGE_ID });
    const req = net.requests[0]!;
    expect(req.headers.get("x-amz-security-token")).toBe("session-token-xyz");
    expect(req.headers.get("authorization")).toContain("SignedHeaders=host;x-amz-date;x-amz-security-token,");
    const body = JSON.parse(req.body);
    expect(body.FromEmailAddress).toBe(`=?UTF-8?B?${btoa("Caf\u00c3\u00a9 Zo\u00c3\u00ab")}?= <billing@acme.test>`);
    expect(body.Destination.ToAddresses).toEqual(['"Lee, Ann \\"AL\\"" <ann@example.com>']);
    expect(body.ReplyToAddresses).toEqual(["help@acme.test"]);
    expect(body.Content.Simple).toMatchObject({
      Body: { Text: { Data: "Hello Ann", Charset: "UTF-8" } },
      Headers: [{ Name: "List-Unsubscribe", Value: "<https://herald.test/u/t>" }],
      Attachments: [{ FileName: "a.pdf", RawContent: "JVBERi0=", ContentType: "application/pdf", ContentDisposition: "ATTACHMENT" }],
    });
  });

  it.each([
    [400, "MessageRejected", "Email address is not verified. The following identities failed the check in region EU-WEST-1: billing@acme.test", "provider"],
    [400, "MessageRejected", "Message content rejected: virus detected", "permanent"],
    [400, "BadRequestException", "Tag value contains invalid characters", "permanent"],
    [400, "MailFromDomainNotVerifiedException", "MAIL FROM domain not verified", "provider"],
    [400, "AccountSuspendedException", "Account suspended", "provider"],
    [400, "SendingPausedException", "Sending paused", "provider"],
    [400, "LimitExceededException", "Too many", "provider"],
    [404, "NotFoundException", "Configuration set <herald> does not exist.", "provider"],
    [403, "InvalidSignatureException", "The request signature we calculated does not match", "provider"],
    [403, "UnrecognizedClientException", "The security token included in the request is invalid", "provider"],
    [429, "TooManyRequestsException", "Too many requests", "retryable"],
    [400, "ThrottlingException", "Maximum sending rate exceeded.", "retryable"],
    [500, "InternalFailure", "Internal failure", "retryable"],
    [503, "ServiceUnavailable", "Service unavailable", "retryable"],
  ] as const)("classifies %i %s (%s) as %s", async (status, type, message, failure) => {
    mockProviders({ "https://email.eu-west-1.amazonaws.com": fails(status, type, message) });
    expect(await adapter().send(outbound())).toMatchObject({ ok: false, failure, httpStatus: status, reason: `SES answered ${status} ${type}: ${message}` });
  });

  it("never retries inside aws4fetch: one request per attempt, so failover stays the pipeline's", async () => {
    const net = mockProviders({ "https://email.eu-west-1.amazonaws.com": fails(503, "ServiceUnavailable", "down") });
    await adapter().send(outbound());
    expect(net.requests).toHaveLength(1);
  });
});

describe("SES events through SNS", () => {
  let seq = 0;
  const sns = () => {
    const routes = {
      "https://sns.us-east-1.amazonaws.com": (req: RecordedRequest) =>
        new URL(req.url).pathname.endsWith(".pem") ? new Response(SNS_CERTIFICATE) : new Response("<ConfirmSubscriptionResponse/>"),
      "https://email.eu-west-1.amazonaws.com": accepts(),
    };
    return mockProviders(routes);
  };
  async function setup(settings: Record<string, unknown> = {}) {
    const provider = await addProvider(key, SES(settings));
    const net = sns();
    const id = await sendAndDeliver(key, queue);
    net.requests.length = 0;
    return { id, url: provider.webhookUrl, net };
  }
  const sesEvent = (id: string | null, eventType: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      eventType,
      mail: {
        timestamp: new Date().toISOString(),
        source: "billing@acme.test",
        messageId: MESSAGE_ID,
        destination: ["ann@example.com"],
        tags: { "ses:configuration-set": ["herald"], ...(id ? { herald_communication_id: [id] } : {}) },
      },
      ...extra,
    });
  const notification = (message: string, extra: Partial<SnsFields> = {}): SnsFields => ({ Type: "Notification", TopicArn: TOPIC, Message: message, MessageId: `sns-${++seq}-${crypto.randomUUID()}`, ...extra });
  const post = async (url: string, fields: SnsFields, opts?: Parameters<typeof snsBody>[1]) => postWebhook(url, await snsBody(fields, opts), snsHeaders(fields.Type));

  it("confirms the subscription of its own topic, once the confirmation's signature checks out", async () => {
    const { url, net } = await setup();
    const subscribeUrl = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=2336412f37`;
    const res = await post(url, { Type: "SubscriptionConfirmation", TopicArn: TOPIC, Message: "You have chosen to subscribe…", SubscribeURL: subscribeUrl, Token: "2336412f37" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: 0, applied: 0, ignored: 0, moved: 0 });
    expect(net.requests.filter((r) => r.url === subscribeUrl).map((r) => r.method)).toEqual(["GET"]);
  });

  it("moves a message through delivered, opened and clicked (SignatureVersion 1 and 2)", async () => {
    const { id, url } = await setup();
    expect((await post(url, notification(sesEvent(id, "Send", { send: {} })))).status).toBe(200);
    expect((await post(url, notification(sesEvent(id, "Delivery", { delivery: { timestamp: new Date().toISOString(), smtpResponse: "250 ok" } })), { version: "1" })).json).toEqual({ received: 1, applied: 1, ignored: 0, moved: 1 });
    await post(url, notification(sesEvent(id, "Open", { open: { timestamp: new Date().toISOString(), ipAddress: "192.0.2.1" } })));
    await post(url, notification(sesEvent(id, "Click", { click: { timestamp: new Date().toISOString(), link: "https://acme.test/pay" } }), { Subject: "Amazon SES Email Event Notification" }));
    const d = await detail(key, id);
    expect(d.status).toBe("clicked");
    expect(providerEvents(d)).toEqual(["Send", "Delivery", "Open", "Click"]);
    expect(JSON.stringify(d.events)).not.toContain("ann@example.com");
  });

  it("matches by SES MessageId without tags; a second delivery of the same MessageId changes nothing", async () => {
    const { id, url } = await setup();
    const fields = notification(sesEvent(null, "Delivery", { delivery: { timestamp: new Date().toISOString() } }));
    expect((await post(url, fields)).json.moved).toBe(1);
    // SNS only retries a failed delivery, whose claim rolled back; once applied, the id is a replay.
    expect((await post(url, fields)).status).toBe(409);
    const d = await detail(key, id);
    expect(d.status).toBe("delivered");
    expect(providerEvents(d)).toEqual(["Delivery"]);
  });

  it("suppresses a permanent bounce and a complaint; a transient bounce ends the message only", async () => {
    const { id, url } = await setup();
    await post(url, notification(sesEvent(id, "Bounce", { bounce: { bounceType: "Permanent", bounceSubType: "General", bouncedRecipients: [{ emailAddress: "ann@example.com" }], timestamp: new Date().toISOString() } })));
    expect(await detail(key, id)).toMatchObject({ status: "bounced", errorMessage: "bounced: Permanent/General" });
    expect(await suppressions(key)).toEqual([expect.objectContaining({ contact: "ann@example.com", reason: "bounce", source: "ses", communicationId: id })]);

    const soft = await sendAndDeliver(key, queue, { channel: "email", recipientContact: "bo@example.com", subject: "Hi", content: "Hello" });
    await post(url, notification(sesEvent(soft, "Bounce", { bounce: { bounceType: "Transient", bounceSubType: "MailboxFull", timestamp: new Date().toISOString() } })));
    expect((await detail(key, soft)).status).toBe("bounced");

    const complained = await sendAndDeliver(key, queue, { channel: "email", recipientContact: "cy@example.com", subject: "Hi", content: "Hello" });
    await post(url, notification(sesEvent(complained, "Complaint", { complaint: { complaintFeedbackType: "abuse", timestamp: new Date().toISOString() } })));
    expect((await detail(key, complained)).status).toBe("sent");
    expect((await suppressions(key)).map((s) => [s.contact, s.reason])).toEqual([
      ["ann@example.com", "bounce"],
      ["cy@example.com", "complaint"],
    ]);
  });

  it("fetches a signing certificate once and keeps it", async () => {
    const { id, url, net } = await setup();
    const certUrl = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-cache0123456789abcdef0123456789ab.pem";
    await post(url, notification(sesEvent(id, "Delivery", { delivery: {} })), { certUrl });
    await post(url, notification(sesEvent(id, "Open", { open: {} })), { certUrl });
    expect((await detail(key, id)).status).toBe("opened");
    expect(net.requests.filter((r) => r.url === certUrl)).toHaveLength(1);
  });

  it("rejects unsigned, forged, tampered, replayed and foreign-topic messages without changing anything", async () => {
    const { id, url, net } = await setup();
    const fields = notification(sesEvent(id, "Delivery", { delivery: {} }));
    const body = JSON.parse(await snsBody(fields));

    const { Signature: _drop, ...unsigned } = body;
    expect((await postWebhook(url, JSON.stringify(unsigned), snsHeaders("Notification"))).status).toBe(401);

    const stranger = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const strangerPem = btoa(String.fromCharCode(...new Uint8Array((await crypto.subtle.exportKey("pkcs8", stranger.privateKey)) as ArrayBuffer)));
    expect((await post(url, fields, { privateKeyPem: strangerPem })).status).toBe(403);

    const tampered = { ...body, Message: body.Message.replace("Delivery", "Bounce") };
    expect((await postWebhook(url, JSON.stringify(tampered), snsHeaders("Notification"))).status).toBe(403);

    const replayed = await post(url, { ...fields, MessageId: "old", Timestamp: new Date(Date.now() - 2 * 3600_000).toISOString() });
    expect(replayed.status).toBe(403);
    expect(replayed.json.detail).toMatch(/replay window/);

    // Signed by SNS for real, but for somebody else's topic.
    const foreign = await post(url, { ...fields, TopicArn: "arn:aws:sns:us-east-1:999999999999:attacker" });
    expect(foreign.status).toBe(403);
    expect(foreign.json.detail).toMatch(/another SNS topic/);

    const evilCert = "https://sns.us-east-1.amazonaws.com.evil.test/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";
    expect((await post(url, fields, { certUrl: evilCert })).status).toBe(403);
    expect((await post(url, fields, { certUrl: SNS_CERT_URL.replace(".pem", ".txt") })).status).toBe(403);
    expect(net.requests.map((r) => new URL(r.url).hostname)).not.toContain("sns.us-east-1.amazonaws.com.evil.test");

    const d = await detail(key, id);
    expect(d.status).toBe("sent");
    expect(providerEvents(d)).toEqual([]);
  });

  it("never follows a SubscribeURL off SNS, even in a signed confirmation", async () => {
    const { url, net } = await setup();
    const res = await post(url, { Type: "SubscriptionConfirmation", TopicArn: TOPIC, Message: "m", SubscribeURL: "https://attacker.test/confirm", Token: "t" });
    expect(res.status).toBe(403);
    expect(net.requests.map((r) => new URL(r.url).origin)).not.toContain("https://attacker.test");
  });

  it("refuses every SNS message for a config without snsTopicArn", async () => {
    const { url } = await setup({ snsTopicArn: undefined });
    const res = await post(url, notification(sesEvent(null, "Delivery", { delivery: {} })));
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/snsTopicArn/);
  });
});
