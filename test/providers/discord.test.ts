/**
 * Discord webhooks end to end: `?wait=true` gives the message id back, mentions are off unless
 * the payload allows them, 429's Retry-After is honoured, an unknown webhook fails the send and a
 * 5xx fails over to the next config.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, captureQueue, createTenant, json, mockProviders } from "../helpers";
import { freshTenant, outbound } from "./support";
import { deliverChat, detail, expectRefused } from "./chat-support";
import { discord } from "../../src/channels/chat/discord";

const ORIGIN = "https://discord.test";
const HOOK = `${ORIGIN}/api/webhooks/1234567890/secret-token`;
const DISCORD = (over: Record<string, unknown> = {}) => ({ channel: "discord", provider: "discord", priority: 1, ...over });
const created = (id = "1180000000000000001") => json(200, { id, channel_id: "1170000000000000000", content: "x", type: 0 });

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  ({ key, queue } = await freshTenant());
});
const send = (body: Record<string, unknown>) => deliverChat(key, queue, { channel: "discord", recipientContact: HOOK, ...body });

describe("Discord", () => {
  it("posts content with wait=true and no mentions, and is delivered under Discord's message id", async () => {
    await addProvider(key, DISCORD({ settings: { username: "Acme Billing" } }));
    const net = mockProviders({ [ORIGIN]: created() });
    const { id } = await send({ subject: "Invoice INV-1", content: "Total $10 @everyone" });
    expect(net.requests[0]!.url).toBe(`${HOOK}?wait=true`);
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ username: "Acme Billing", allowed_mentions: { parse: [] }, content: "**Invoice INV-1**\nTotal $10 @everyone" });
    expect(await detail(key, id)).toMatchObject({ status: "delivered", provider: "discord", providerMessageId: "1180000000000000001" });
  });

  it("sends embeds from metadata.discord and keeps a thread_id in the URL", async () => {
    await addProvider(key, DISCORD());
    const net = mockProviders({ [ORIGIN]: created() });
    const embeds = [{ title: "INV-1", description: "Due Friday", color: 0x2b6cb0 }];
    await send({ recipientContact: `${HOOK}?thread_id=42`, content: "New invoice", metadata: { discord: { embeds } } });
    expect(new URL(net.requests[0]!.url).searchParams.get("thread_id")).toBe("42");
    expect(new URL(net.requests[0]!.url).searchParams.get("wait")).toBe("true");
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ allowed_mentions: { parse: [] }, embeds, content: "New invoice" });
  });

  it("a 429 is retryable after Retry-After (fractional seconds rounded up)", async () => {
    mockProviders({ [ORIGIN]: json(429, { message: "You are being rate limited.", retry_after: 1.337, global: false }, { "retry-after": "1.337" }) });
    const a = discord.create({}, discord.settings.parse({}));
    expect(await a.send(outbound({ channel: "discord", to: HOOK, subject: null }))).toMatchObject({ ok: false, failure: "retryable", httpStatus: 429, retryAfterSeconds: 2 });
    await addProvider(key, DISCORD());
    const { retrySpies } = await send({ content: "Hi" });
    expect(retrySpies[0]!.mock.calls[0]![0]!.delaySeconds).toBeGreaterThanOrEqual(2);
  });

  it("an unknown webhook fails the send without a retry", async () => {
    await addProvider(key, DISCORD());
    mockProviders({ [ORIGIN]: json(404, { message: "Unknown Webhook", code: 10015 }) });
    const { id, retrySpies } = await send({ content: "Hi" });
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await detail(key, id)).toMatchObject({ status: "failed", errorMessage: "Discord answered 404: Unknown Webhook (code 10015)" });
  });

  it("fails over to the next config when Discord answers 5xx", async () => {
    await addProvider(key, DISCORD({ priority: 1 }));
    await addProvider(key, DISCORD({ priority: 2, settings: { username: "Fallback" } }));
    let calls = 0;
    const net = mockProviders({ [ORIGIN]: () => (++calls === 1 ? new Response("upstream", { status: 502 }) : created()()) });
    const { id } = await send({ content: "Hi" });
    expect(net.requests).toHaveLength(2);
    expect(JSON.parse(net.requests[1]!.body)).toMatchObject({ username: "Fallback" });
    expect(await detail(key, id)).toMatchObject({ status: "delivered", providerMessageId: "1180000000000000001" });
  });

  it("refuses a contact that is not a webhook URL, long content and too many embeds", async () => {
    await addProvider(key, DISCORD());
    const cases: [Record<string, unknown>, string][] = [
      [{ recipientContact: "1234567890" }, "recipientContact"],
      [{ content: "x".repeat(2001) }, "content"],
      [{ metadata: { discord: { embeds: Array.from({ length: 11 }, () => ({ title: "x" })) } } }, "metadata.discord"],
    ];
    await expectRefused(key, { channel: "discord", recipientContact: HOOK, content: "Hi" }, cases);
  });
});

describe("Discord webhook secrets", () => {
  it("a network error does not carry the webhook's token to the timeline", async () => {
    const { key: k } = await createTenant("B");
    await addProvider(k, DISCORD());
    mockProviders({});
    const q = captureQueue();
    const { id } = await deliverChat(k, q, { channel: "discord", recipientContact: HOOK, content: "Hi" });
    const d = await detail(k, id);
    expect(d.errorMessage).toMatch(/^discord request failed: network error/);
    expect(JSON.stringify(d.events)).not.toContain("secret-token");
    expect(d.errorMessage).not.toContain("secret-token");
  });
});
