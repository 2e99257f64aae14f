import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, captureQueue, createTenant, json, mockProviders } from "../helpers";
import { PROVIDERS } from "../../src/channels/registry";
import { newWhsec, svixHeaders } from "./email-signing";
import { detail, outbound, postWebhook, providerEvents, sendAndDeliver, suppressions } from "./support";

const SECRET = newWhsec();
const RESEND = (credentials: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) => ({
  channel: "email",
  provider: "resend",
  priority: 1,
  credentials: { apiKey: "re_test_0123", webhookSecret: SECRET, ...credentials },
  settings: { from: "billing@acme.test", fromName: "Acme Billing", ...settings },
});
const EMAIL_ID = "4ef9a417-02e9-4d39-ad75-9611e0fcc33c";
const accepts = (id = EMAIL_ID) => json(200, { id });

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});

const adapter = () => {
  const def = PROVIDERS.resend;
  return def.create(def.credentials.parse({ apiKey: "re_k" }), def.settings.parse({ from: "a@acme.test", replyTo: "help@acme.test" }));
};

describe("the Resend adapter", () => {
  it("posts JSON with a Bearer key, our ids as tags, and the communication id as Idempotency-Key", async () => {
    await addProvider(key, RESEND());
    const net = mockProviders({ "https://api.resend.com": accepts() });
    const id = await sendAndDeliver(key, queue);

    expect(net.requests).toHaveLength(1);
    const req = net.requests[0]!;
    expect(req.url).toBe("https://api.resend.com/emails");
    expect(req.method).toBe("POST");
    expect(req.headers.get("authorization")).toBe("Bearer re_test_0123");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.headers.get("idempotency-key")).toBe(id);
    expect(JSON.parse(req.body)).toEqual({
      from: "Acme Billing <billing@acme.test>",
      to: ["Ann Lee <ann@example.com>"],
      subject: "Invoice INV-1",
      html: "<p>Total: <b>$10</b></p>",
      text: "Total: $10",
      tags: [
        { name: "herald_communication_id", value: id },
        { name: "herald_tenant_id", value: tenantId },
      ],
    });
    expect(await detail(key, id)).toMatchObject({ status: "sent", provider: "resend", providerMessageId: EMAIL_ID });
  });

  it("sends inline attachments and headers, and URL attachments as a path Resend fetches", async () => {
    const net = mockProviders({ "https://api.resend.com": accepts() });
    await adapter().send(
      outbound({
        headers: { "List-Unsubscribe": "<https://herald.test/u/t>" },
        attachments: [
          { filename: "a.pdf", content: "JVBERi0=", mimeType: "application/pdf" },
          { filename: "c.png", fileUrl: "https://cdn.acme.test/c.png" },
        ],
      }),
    );
    expect(JSON.parse(net.requests[0]!.body)).toMatchObject({
      text: "Hello Ann",
      reply_to: "help@acme.test",
      headers: { "List-Unsubscribe": "<https://herald.test/u/t>" },
      attachments: [
        { filename: "a.pdf", content: "JVBERi0=", content_type: "application/pdf" },
        { filename: "c.png", path: "https://cdn.acme.test/c.png" },
      ],
    });
  });

  it.each([
    [429, "rate_limit_exceeded", "retryable"],
    [429, "daily_quota_exceeded", "provider"],
    [429, "monthly_quota_exceeded", "provider"],
    [500, "application_error", "retryable"],
    [502, undefined, "retryable"],
    [401, "missing_api_key", "provider"],
    [401, "restricted_api_key", "provider"],
    [403, "invalid_api_key", "provider"],
    [403, "validation_error", "provider"],
    [409, "concurrent_idempotent_requests", "retryable"],
    [400, "validation_error", "permanent"],
    [422, "invalid_parameter", "permanent"],
    [422, "invalid_from_address", "provider"],
  ] as const)("classifies %i %s as %s", async (status, name, failure) => {
    mockProviders({ "https://api.resend.com": json(status, { statusCode: status, ...(name ? { name } : {}), message: "nope" }, { "retry-after": "2" }) });
    const outcome = await adapter().send(outbound());
    expect(outcome).toMatchObject({ ok: false, failure, httpStatus: status, reason: `Resend answered ${status}${name ? ` ${name}` : ""}: nope` });
    // Only a retry soon will do: a quota's Retry-After is no reason to come back.
    expect((outcome as { retryAfterSeconds?: number }).retryAfterSeconds).toBe(failure === "retryable" ? 2 : undefined);
  });

  it("takes a key already used with another body as the earlier attempt having gone out", async () => {
    mockProviders({ "https://api.resend.com": json(409, { statusCode: 409, name: "invalid_idempotent_request", message: "Same idempotency key used with a different request payload." }) });
    const message = outbound();
    expect(await adapter().send(message)).toMatchObject({ ok: true, providerMessageId: `resend-${message.communicationId}` });
  });
});

describe("Resend webhooks", () => {
  async function setup(credentials: Record<string, unknown> = {}) {
    // Above Resend's default 2/s, which would hold a third send back as `queued`, where no
    // receipt applies to it.
    const provider = await addProvider(key, RESEND(credentials, { rateLimit: { perSecond: 100, burst: 100 } }));
    mockProviders({ "https://api.resend.com": accepts() });
    const id = await sendAndDeliver(key, queue);
    return { id, url: provider.webhookUrl };
  }
  const event = (id: string | null, type: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      type,
      created_at: new Date().toISOString(),
      data: {
        email_id: EMAIL_ID,
        created_at: new Date().toISOString(),
        from: "Acme Billing <billing@acme.test>",
        to: ["ann@example.com"],
        subject: "Invoice INV-1",
        ...(id ? { tags: { herald_communication_id: id } } : {}),
        ...extra,
      },
    });
  const post = async (url: string, body: string, opts?: Parameters<typeof svixHeaders>[2], secret = SECRET) => postWebhook(url, body, await svixHeaders(secret, body, opts));

  it("moves a message through delivered, opened and clicked", async () => {
    const { id, url } = await setup();
    await post(url, event(id, "email.sent"));
    await post(url, event(id, "email.delivered"));
    await post(url, event(id, "email.opened"));
    const click = await post(url, event(id, "email.clicked", { click: { link: "https://acme.test/pay", ipAddress: "192.0.2.1", timestamp: new Date().toISOString(), userAgent: "x" } }));
    expect(click.json).toEqual({ received: 1, applied: 1, ignored: 0, moved: 1 });
    const d = await detail(key, id);
    expect(d.status).toBe("clicked");
    expect(providerEvents(d)).toEqual(["email.sent", "email.delivered", "email.opened", "email.clicked"]);
    expect(JSON.stringify(d.events)).not.toContain("ann@example.com");
  });

  it("matches by email_id without tags, and a second delivery of the same svix-id changes nothing", async () => {
    const { id, url } = await setup();
    const body = event(null, "email.delivered");
    expect((await post(url, body, { id: "msg_retry" })).json.moved).toBe(1);
    // Within the signature's window the id is a replay (409); events are deduplicated besides.
    expect((await post(url, body, { id: "msg_retry" })).status).toBe(409);
    const d = await detail(key, id);
    expect(d.status).toBe("delivered");
    expect(providerEvents(d)).toEqual(["email.delivered"]);
  });

  it("suppresses a permanent bounce; a transient one ends the message only", async () => {
    const { id, url } = await setup();
    const bounce = (type: string, subType: string) => ({ bounce: { type, subType, message: "The recipient's mailbox does not exist.", diagnosticCode: ["smtp; 550 5.1.1 user unknown"] } });
    await post(url, event(id, "email.bounced", bounce("Permanent", "General")));
    expect(await detail(key, id)).toMatchObject({ status: "bounced", errorMessage: "bounced: Permanent/General (The recipient's mailbox does not exist.)" });
    expect(await suppressions(key)).toEqual([expect.objectContaining({ contact: "ann@example.com", reason: "bounce", source: "resend", communicationId: id })]);

    const other = await sendAndDeliver(key, queue, { channel: "email", recipientContact: "bo@example.com", subject: "Hi", content: "Hello" });
    await post(url, event(other, "email.bounced", bounce("Transient", "MailboxFull")));
    expect((await detail(key, other)).status).toBe("bounced");
    expect(await suppressions(key)).toHaveLength(1);
  });

  it("suppresses on a complaint; fails a message Resend suppressed or could not send", async () => {
    const { id, url } = await setup();
    await post(url, event(id, "email.complained"));
    expect((await detail(key, id)).status).toBe("sent");
    expect(await suppressions(key)).toEqual([expect.objectContaining({ reason: "complaint", source: "resend" })]);

    const other = await sendAndDeliver(key, queue, { channel: "email", recipientContact: "bo@example.com", subject: "Hi", content: "Hello" });
    await post(url, event(other, "email.suppressed", { suppressed: { reason: "previous_bounce", type: "OnAccountSuppressionList", message: "m", diagnosticCode: [] } }));
    expect(await detail(key, other)).toMatchObject({ status: "failed", errorMessage: "suppressed by Resend: previous_bounce" });
    const third = await sendAndDeliver(key, queue, { channel: "email", recipientContact: "cy@example.com", subject: "Hi", content: "Hello" });
    await post(url, event(third, "email.failed", { failed: { reason: "reached_daily_quota" } }));
    expect(await detail(key, third)).toMatchObject({ status: "failed", errorMessage: "Resend failed to send: reached_daily_quota" });
    expect((await suppressions(key)).map((s) => [s.contact, s.reason])).toEqual([
      ["ann@example.com", "complaint"],
      ["bo@example.com", "bounce"],
    ]);
  });

  it("rejects unsigned, forged, tampered and replayed requests without changing anything", async () => {
    const { id, url } = await setup();
    const body = event(id, "email.delivered");
    expect((await postWebhook(url, body, { "content-type": "application/json" })).status).toBe(401);
    expect((await post(url, body, {}, newWhsec())).status).toBe(403);
    const signed = await svixHeaders(SECRET, body);
    expect((await postWebhook(url, body.replace("delivered", "opened"), signed)).status).toBe(403);
    expect((await postWebhook(url, body, { ...signed, "svix-id": "msg_other" })).status).toBe(403);
    const replayed = await post(url, body, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(replayed.status).toBe(403);
    expect(replayed.json.detail).toMatch(/replay window/);
    const d = await detail(key, id);
    expect(d.status).toBe("sent");
    expect(providerEvents(d)).toEqual([]);
  });

  it("accepts any of several signatures during a secret rotation", async () => {
    const { id, url } = await setup();
    const body = event(id, "email.delivered");
    const old = await svixHeaders(newWhsec(), body, { id: "msg_rot" });
    const current = await svixHeaders(SECRET, body, { id: "msg_rot" });
    const both = { ...current, "svix-signature": `${old["svix-signature"]} ${current["svix-signature"]}` };
    expect((await postWebhook(url, body, both)).status).toBe(200);
  });

  it("refuses webhooks for a config with no webhook secret", async () => {
    const { url } = await setup({ webhookSecret: undefined });
    const body = event(null, "email.delivered");
    const res = await post(url, body);
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/webhookSecret/);
  });
});
