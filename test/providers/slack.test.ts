/**
 * Slack end to end: a send to a channel id goes through chat.postMessage with the bot token, a
 * send to an incoming webhook URL posts there; Slack's 200 `{ ok: false, error }` answers and 429s
 * are classified, failover takes the next config, and bad contacts and payloads are 422s.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, json, mockProviders, runDelivery } from "../helpers";
import { freshTenant, outbound } from "./support";
import { deliverChat, detail, expectRefused } from "./chat-support";
import { slack, slackErrorKind } from "../../src/channels/chat/slack";

const API = "https://slack.mock";
const HOOKS = "https://hooks.slack.test";
const HOOK = `${HOOKS}/services/T000/B000/XXXXXXXX`;
const TOKEN = "xoxb-1234-5678-abcdef";
const SLACK = (over: Record<string, unknown> = {}) => ({ channel: "slack", provider: "slack", priority: 1, credentials: { botToken: TOKEN }, settings: { baseUrl: API }, ...over });
const posted = (channel = "C0123456789", ts = "1700000000.000100") => json(200, { ok: true, channel, ts, message: { text: "x" } });

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  ({ key, queue } = await freshTenant());
});

const send = (body: Record<string, unknown>) => deliverChat(key, queue, { channel: "slack", recipientContact: "C0123456789", ...body });

describe("Slack", () => {
  it("posts to chat.postMessage with the bot token and is delivered, named by channel and ts", async () => {
    await addProvider(key, SLACK());
    const net = mockProviders({ [API]: posted() });
    const { id } = await send({ subject: "Invoice INV-1", content: "Total: $10, due Friday" });
    const req = net.requests[0]!;
    expect(req.url).toBe(`${API}/api/chat.postMessage`);
    expect(req.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(req.body)).toEqual({ channel: "C0123456789", text: "*Invoice INV-1*\nTotal: $10, due Friday", unfurl_links: false, unfurl_media: false });
    expect(await detail(key, id)).toMatchObject({ status: "delivered", provider: "slack", providerMessageId: "C0123456789:1700000000.000100" });
  });

  it("sends a Block Kit payload given as content, with metadata.slack on top", async () => {
    await addProvider(key, SLACK());
    const net = mockProviders({ [API]: posted() });
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*Invoice* INV-1 is due" } }];
    await send({ content: JSON.stringify({ blocks, text: "Invoice INV-1 is due" }), metadata: { slack: { thread_ts: "1700000000.000001" } } });
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ channel: "C0123456789", text: "Invoice INV-1 is due", blocks, thread_ts: "1700000000.000001", unfurl_links: false, unfurl_media: false });
  });

  it("posts to an incoming webhook URL given as the contact, without a token", async () => {
    await addProvider(key, SLACK({ credentials: {} }));
    const net = mockProviders({ [HOOKS]: () => new Response("ok") });
    const { id } = await send({ recipientContact: HOOK, content: "Deploy finished" });
    expect(net.requests[0]!.url).toBe(HOOK);
    expect(net.requests[0]!.headers.get("authorization")).toBeNull();
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ text: "Deploy finished", unfurl_links: false, unfurl_media: false });
    expect(await detail(key, id)).toMatchObject({ status: "delivered", providerMessageId: `webhook:${id}` });
  });

  it("a 429 with Retry-After is retryable and the send is retried after that delay", async () => {
    await addProvider(key, SLACK());
    mockProviders({ [API]: json(429, { ok: false, error: "ratelimited" }, { "retry-after": "30" }) });
    const { id, retrySpies } = await send({ content: "Hello" });
    expect(retrySpies[0]).toHaveBeenCalledWith(expect.objectContaining({ delaySeconds: expect.any(Number) }));
    expect(retrySpies[0]!.mock.calls[0]![0]!.delaySeconds).toBeGreaterThanOrEqual(30);
    expect((await detail(key, id)).status).not.toBe("failed");
    const outcome = await slack.create(slack.credentials.parse({ botToken: TOKEN }), slack.settings.parse({ baseUrl: API })).send(outbound({ channel: "slack", to: "C0123456789", subject: null }));
    expect(outcome).toMatchObject({ ok: false, failure: "retryable", httpStatus: 429, retryAfterSeconds: 30, reason: "Slack answered 429: ratelimited" });
  });

  it("an error answered with 200 is classified by its code: channel_not_found fails the send", async () => {
    await addProvider(key, SLACK());
    mockProviders({ [API]: json(200, { ok: false, error: "channel_not_found" }) });
    const { id, retrySpies } = await send({ content: "Hello" });
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await detail(key, id)).toMatchObject({ status: "failed", errorMessage: "Slack answered 200: channel_not_found" });
  });

  it("classifies Slack's error codes", () => {
    expect(slackErrorKind("ratelimited")).toBe("retryable");
    expect(slackErrorKind("internal_error")).toBe("retryable");
    expect(slackErrorKind("invalid_auth")).toBe("provider");
    expect(slackErrorKind("missing_scope")).toBe("provider");
    expect(slackErrorKind("channel_not_found")).toBe("permanent");
    expect(slackErrorKind("is_archived")).toBe("permanent");
  });

  it("fails over from a workspace whose token is revoked to the next config", async () => {
    await addProvider(key, SLACK({ priority: 1 }));
    await addProvider(key, SLACK({ priority: 2, credentials: { botToken: "xoxb-9999-other" }, settings: { baseUrl: "https://slack-two.mock" } }));
    const net = mockProviders({ [API]: json(200, { ok: false, error: "invalid_auth" }), "https://slack-two.mock": posted("C0123456789", "1700000001.000200") });
    const { id } = await send({ content: "Hello" });
    expect(net.requests.map((r) => r.headers.get("authorization"))).toEqual([`Bearer ${TOKEN}`, "Bearer xoxb-9999-other"]);
    expect(await detail(key, id)).toMatchObject({ status: "delivered", providerMessageId: "C0123456789:1700000001.000200" });
  });

  it("a config without a token cannot post to a channel id: it fails over", async () => {
    await addProvider(key, SLACK({ priority: 1, credentials: {} }));
    await addProvider(key, SLACK({ priority: 2 }));
    const net = mockProviders({ [API]: posted() });
    const { id } = await send({ content: "Hello" });
    expect(net.requests).toHaveLength(1);
    expect((await detail(key, id)).status).toBe("delivered");
  });

  it("refuses bad contacts, private webhook URLs, attachments and broken payloads at the API", async () => {
    await addProvider(key, SLACK());
    const cases: [Record<string, unknown>, string][] = [
      [{ recipientContact: "general" }, "recipientContact"],
      [{ recipientContact: "https://10.0.0.1/services/x" }, "recipientContact"],
      [{ recipientContact: "http://hooks.slack.test/services/x" }, "recipientContact"],
      [{ content: "{\"blocks\": [" + "}" }, "content"],
      [{ content: JSON.stringify({ blocks: "nope" }) }, "content"],
      [{ metadata: { slack: "x" } }, "metadata.slack"],
      [{ attachments: [{ filename: "a.txt", content: btoa("hi") }] }, "attachments"],
    ];
    await expectRefused(key, { channel: "slack", recipientContact: "C0123456789", content: "Hi" }, cases);
  });

  it("a loopback webhook URL passes the API but is refused at delivery outside local development", async () => {
    await addProvider(key, SLACK());
    const net = mockProviders({});
    const { id } = await send({ recipientContact: "https://127.0.0.1:9/services/T/B/x", content: "Hi" });
    expect(net.requests).toHaveLength(0);
    expect(await detail(key, id)).toMatchObject({ status: "failed", errorMessage: expect.stringMatching(/slack webhook URL must not point at a private or local address/) });
  });

  it("a template's slack variant holds Block Kit JSON, rendered with the send's variables", async () => {
    await addProvider(key, SLACK());
    const t = await call("POST", "/api/communication-templates", {
      key,
      body: {
        name: "Invoice (Slack)",
        code: "invoice_ready",
        channel: "slack",
        type: "invoice",
        bodyTemplate: '{"text": "Invoice {{invoiceNumber}}", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Invoice* {{invoiceNumber}}: {{amount}}"}}]}',
        availableVariables: ["invoiceNumber", "amount"],
      },
    });
    expect(t.status, t.text).toBe(201);
    const net = mockProviders({ [API]: posted() });
    const { id } = await send({ templateCode: "invoice_ready", templateVariables: { invoiceNumber: "INV-7", amount: "$12" } });
    expect(JSON.parse(net.requests[0]!.body)).toMatchObject({ text: "Invoice INV-7", blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Invoice* INV-7: $12" } }] });
    expect((await detail(key, id)).status).toBe("delivered");
  });

  it("a routed send reaches the recipient's preferred Slack address", async () => {
    await addProvider(key, SLACK());
    const bad = await call("PATCH", "/api/communication-preferences/customer/cus-1", { key, body: { preferredSlack: "#general" } });
    expect(bad.status).toBe(422);
    const ok = await call("PATCH", "/api/communication-preferences/customer/cus-1", { key, body: { preferredSlack: "U0123456789" } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ preferredSlack: "U0123456789", slackEnabled: true });
    const net = mockProviders({ [API]: posted("D0123456789") });
    const res = await call("POST", "/api/communications/send", { key, body: { channels: ["slack"], recipientType: "customer", recipientId: "cus-1", content: "Hello" } });
    expect(res.status, res.text).toBe(201);
    await runDelivery(queue.drain().map((m) => m.body));
    const id = res.json.results[0].id as string;
    expect(JSON.parse(net.requests[0]!.body)).toMatchObject({ channel: "U0123456789" });
    const d = await detail(key, id);
    expect(d, JSON.stringify(d)).toMatchObject({ channel: "slack", status: "delivered" });
  });
});
