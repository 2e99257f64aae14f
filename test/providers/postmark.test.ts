import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, captureQueue, createTenant, json, mockProviders } from "../helpers";
import { PROVIDERS } from "../../src/channels/registry";
import { basicAuth } from "./email-signing";
import { detail, outbound, postWebhook, providerEvents, sendAndDeliver, suppressions } from "./support";

const HOOK_USER = "postmark-hooks";
const HOOK_PASSWORD = "correct-horse-battery-staple";
const POSTMARK = (settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}) => ({
  channel: "email",
  provider: "postmark",
  priority: 1,
  credentials: { serverToken: "server-token-0123", webhookUsername: HOOK_USER, webhookPassword: HOOK_PASSWORD, ...credentials },
  settings: { from: "billing@acme.test", fromName: "Acme Billing", ...settings },
});
const MESSAGE_ID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817";
const accepts = (id = MESSAGE_ID) => json(200, { To: "ann@example.com", SubmittedAt: "2026-11-23T14:00:00Z", MessageID: id, ErrorCode: 0, Message: "OK" });

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});

const adapter = (settings: Record<string, unknown> = {}) => {
  const def = PROVIDERS.postmark;
  return def.create(def.credentials.parse({ serverToken: "t" }), def.settings.parse({ from: "a@acme.test", ...settings }));
};

describe("the Postmark adapter", () => {
  it("posts PascalCase JSON with the server token, our ids in Metadata, on the outbound stream", async () => {
    await addProvider(key, POSTMARK());
    const net = mockProviders({ "https://api.postmarkapp.com": accepts() });
    const id = await sendAndDeliver(key, queue);

    expect(net.requests).toHaveLength(1);
    const req = net.requests[0]!;
    expect(req.url).toBe("https://api.postmarkapp.com/email");
    expect(req.method).toBe("POST");
    expect(req.headers.get("x-postmark-server-token")).toBe("server-token-0123");
    expect(req.headers.get("accept")).toBe("application/json");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.headers.has("authorization")).toBe(false);
    expect(JSON.parse(req.body)).toEqual({
      From: "Acme Billing <billing@acme.test>",
      To: "Ann Lee <ann@example.com>",
      Subject: "Invoice INV-1",
      HtmlBody: "<p>Total: <b>$10</b></p>",
      TextBody: "Total: $10",
      Metadata: { herald_communication_id: id, herald_tenant_id: tenantId },
      MessageStream: "outbound",
    });
    expect(await detail(key, id)).toMatchObject({ status: "sent", provider: "postmark", providerMessageId: MESSAGE_ID });
  });

  it("sends inline attachments, headers, a broadcast stream, and no Postmark tracking when Herald tracks", async () => {
    const net = mockProviders({ "https://api.postmarkapp.com": accepts() });
    await adapter({ messageStream: "broadcast", replyTo: "help@acme.test" }).send(
      outbound({
        tracking: "herald",
        headers: { "List-Unsubscribe": "<https://herald.test/u/t>" },
        attachments: [
          { filename: "a.pdf", content: "JVBERi0=", mimeType: "application/pdf" },
          { filename: "b.bin", content: "AAEC" },
          { filename: "c.png", fileUrl: "https://cdn.acme.test/c.png" },
        ],
      }),
    );
    expect(JSON.parse(net.requests[0]!.body)).toMatchObject({
      TextBody: "Hello Ann",
      ReplyTo: "help@acme.test",
      MessageStream: "broadcast",
      Headers: [{ Name: "List-Unsubscribe", Value: "<https://herald.test/u/t>" }],
      TrackOpens: false,
      TrackLinks: "None",
      Attachments: [
        { Name: "a.pdf", Content: "JVBERi0=", ContentType: "application/pdf" },
        { Name: "b.bin", Content: "AAEC", ContentType: "application/octet-stream" },
      ],
    });
  });

  it.each([
    [429, 0, "retryable"],
    [500, 0, "retryable"],
    [503, 0, "retryable"],
    [401, 10, "provider"],
    [422, 400, "provider"],
    [422, 401, "provider"],
    [422, 405, "provider"],
    [422, 412, "provider"],
    [422, 429, "retryable"],
    [422, 300, "permanent"],
    [422, 406, "permanent"],
    [422, 411, "permanent"],
  ] as const)("classifies HTTP %i with ErrorCode %i as %s", async (status, code, failure) => {
    mockProviders({ "https://api.postmarkapp.com": json(status, { ErrorCode: code, Message: "nope" }) });
    const outcome = await adapter().send(outbound());
    expect(outcome).toMatchObject({ ok: false, failure, httpStatus: status, reason: `Postmark answered ${status}${code ? ` (error ${code})` : ""}: nope` });
  });

  it("fails a send to an address Postmark has deactivated, without failing over", async () => {
    await addProvider(key, POSTMARK());
    await addProvider(key, { channel: "email", provider: "sandbox", priority: 2 });
    const net = mockProviders({
      "https://api.postmarkapp.com": json(422, { ErrorCode: 406, Message: "You tried to send to recipient(s) that have been marked as inactive." }),
    });
    const id = await sendAndDeliver(key, queue);
    expect(net.requests).toHaveLength(1);
    expect(await detail(key, id)).toMatchObject({ status: "failed", errorMessage: expect.stringContaining("(error 406)") });
  });
});

describe("Postmark webhooks", () => {
  async function setup(credentials: Record<string, unknown> = {}) {
    const provider = await addProvider(key, POSTMARK({}, credentials));
    mockProviders({ "https://api.postmarkapp.com": accepts() });
    const id = await sendAndDeliver(key, queue);
    return { id, url: provider.webhookUrl };
  }
  const record = (id: string | null, type: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ RecordType: type, MessageStream: "outbound", MessageID: MESSAGE_ID, Recipient: "ann@example.com", Metadata: id ? { herald_communication_id: id } : {}, ...extra });
  const headers = (user = HOOK_USER, password = HOOK_PASSWORD) => ({ "content-type": "application/json", ...basicAuth(user, password) });

  it("moves a message through delivered, opened and clicked", async () => {
    const { id, url } = await setup();
    expect((await postWebhook(url, record(id, "Delivery", { DeliveredAt: "2026-11-23T14:00:01Z" }), headers())).json).toEqual({ received: 1, applied: 1, ignored: 0, moved: 1 });
    await postWebhook(url, record(id, "Open", { FirstOpen: true, ReceivedAt: "2026-11-23T14:01:00Z" }), headers());
    await postWebhook(url, record(id, "Click", { OriginalLink: "https://acme.test/pay", ReceivedAt: "2026-11-23T14:02:00Z" }), headers());
    const d = await detail(key, id);
    expect(d.status).toBe("clicked");
    expect(providerEvents(d)).toEqual(["Delivery", "Open", "Click"]);
    expect(JSON.stringify(d.events)).not.toContain("ann@example.com");
  });

  it("matches by MessageID without Metadata, and a repeated record is a no-op", async () => {
    const { id, url } = await setup();
    const body = record(null, "Delivery", { DeliveredAt: "2026-11-23T14:00:01Z" });
    await postWebhook(url, body, headers());
    expect((await postWebhook(url, body, headers())).json.moved).toBe(0);
    const d = await detail(key, id);
    expect(d.status).toBe("delivered");
    expect(providerEvents(d)).toEqual(["Delivery"]);
  });

  it("suppresses a hard bounce; a soft bounce ends the message only; an auto-reply changes nothing", async () => {
    const { id, url } = await setup();
    await postWebhook(url, record(id, "Bounce", { ID: 1, Type: "AutoResponder", BouncedAt: "2026-11-23T14:00:02Z" }), headers());
    expect((await detail(key, id)).status).toBe("sent");
    await postWebhook(url, record(id, "Bounce", { ID: 2, Type: "HardBounce", Inactive: true, Description: "Unknown user", BouncedAt: "2026-11-23T14:00:03Z" }), headers());
    expect(await detail(key, id)).toMatchObject({ status: "bounced", errorMessage: "bounced: HardBounce (Unknown user)" });
    expect(await suppressions(key)).toEqual([expect.objectContaining({ contact: "ann@example.com", reason: "bounce", source: "postmark", communicationId: id })]);

    const other = await sendAndDeliver(key, queue, { channel: "email", recipientContact: "bo@example.com", subject: "Hi", content: "Hello" });
    await postWebhook(url, record(other, "Bounce", { ID: 3, Type: "SoftBounce", Inactive: false, BouncedAt: "2026-11-23T14:00:04Z" }), headers());
    expect((await detail(key, other)).status).toBe("bounced");
    expect((await suppressions(key)).map((s) => s.contact)).toEqual(["ann@example.com"]);
  });

  it("suppresses on a spam complaint and on an unsubscribe, without changing the status", async () => {
    const { id, url } = await setup();
    await postWebhook(url, record(id, "SpamComplaint", { ID: 9, Type: "SpamComplaint", BouncedAt: "2026-11-23T14:00:05Z" }), headers());
    expect((await detail(key, id)).status).toBe("sent");
    const other = await sendAndDeliver(key, queue, { channel: "email", recipientContact: "bo@example.com", subject: "Hi", content: "Hello" });
    const change = { SuppressSending: true, SuppressionReason: "ManualSuppression", ChangedAt: "2026-11-23T14:00:06Z" };
    await postWebhook(url, record(other, "SubscriptionChange", change), headers());
    expect((await detail(key, other)).status).toBe("sent");
    expect((await suppressions(key)).map((s) => [s.contact, s.reason, s.source])).toEqual([
      ["ann@example.com", "complaint", "postmark"],
      ["bo@example.com", "unsubscribe", "postmark"],
    ]);
  });

  it("rejects missing and wrong credentials without changing anything", async () => {
    const { id, url } = await setup();
    const body = record(id, "Delivery", { DeliveredAt: "2026-11-23T14:00:01Z" });
    expect((await postWebhook(url, body, { "content-type": "application/json" })).status).toBe(401);
    expect((await postWebhook(url, body, headers(HOOK_USER, "wrong-password-0000"))).status).toBe(403);
    expect((await postWebhook(url, body, headers("someone", HOOK_PASSWORD))).status).toBe(403);
    expect((await postWebhook(url, body, { authorization: "Basic !!!" })).status).toBe(403);
    const d = await detail(key, id);
    expect(d.status).toBe("sent");
    expect(providerEvents(d)).toEqual([]);
  });

  it("refuses webhooks for a config without webhook credentials", async () => {
    const { url } = await setup({ webhookUsername: undefined, webhookPassword: undefined });
    const res = await postWebhook(url, record(null, "Delivery"), headers());
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/webhookUsername/);
  });
});
