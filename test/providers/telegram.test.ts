/**
 * Telegram end to end: sendMessage with the bot token in the path and parse_mode, named
 * `<chat id>:<message id>`; 429's `retry_after`, a blocked bot (failed, and the chat suppressed)
 * and failover between bots.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, json, mockProviders } from "../helpers";
import { freshTenant, outbound } from "./support";
import { deliverChat, detail, expectRefused } from "./chat-support";
import { telegram, telegramBody } from "../../src/channels/chat/telegram";

const API = "https://telegram.mock";
const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const TELEGRAM = (over: Record<string, unknown> = {}) => ({ channel: "telegram", provider: "telegram", priority: 1, credentials: { botToken: TOKEN }, settings: { baseUrl: API }, ...over });
const sent = (chatId: number, messageId: number) => json(200, { ok: true, result: { message_id: messageId, date: 1700000000, chat: { id: chatId, type: "private" }, text: "x" } });

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  ({ key, queue } = await freshTenant());
});
const send = (body: Record<string, unknown>) => deliverChat(key, queue, { channel: "telegram", recipientContact: "123456789", ...body });

describe("Telegram", () => {
  it("calls sendMessage with the parse mode and is delivered as <chat>:<message id>", async () => {
    await addProvider(key, TELEGRAM({ settings: { baseUrl: API, parseMode: "HTML" } }));
    const net = mockProviders({ [API]: sent(123456789, 42) });
    const { id } = await send({ subject: "Invoice <INV-1>", content: "Total: <b>$10</b>" });
    expect(net.requests[0]!.url).toBe(`${API}/bot${TOKEN}/sendMessage`);
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ chat_id: 123456789, text: "<b>Invoice &lt;INV-1&gt;</b>\nTotal: <b>$10</b>", parse_mode: "HTML" });
    expect(await detail(key, id)).toMatchObject({ status: "delivered", provider: "telegram", providerMessageId: "123456789:42" });
  });

  it("takes a channel @username and metadata.telegram (buttons, silent)", async () => {
    await addProvider(key, TELEGRAM());
    const net = mockProviders({ [API]: sent(-1001234567890, 7) });
    const reply_markup = { inline_keyboard: [[{ text: "Pay", url: "https://pay.acme.test/INV-1" }]] };
    await send({ recipientContact: "@acme_status", content: "Paid", metadata: { telegram: { reply_markup, disable_notification: true } } });
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ chat_id: "@acme_status", text: "Paid", reply_markup, disable_notification: true });
  });

  it("escapes a subject for MarkdownV2", () => {
    const shaped = telegramBody({ to: "1", subject: "v1.2 (beta)!", content: "ok", chat: undefined }, { parseMode: "MarkdownV2", disableNotification: false });
    expect(shaped).toMatchObject({ ok: true, body: { text: "*v1\\.2 \\(beta\\)\\!*\nok", parse_mode: "MarkdownV2" } });
  });

  it("a 429 is retryable after Telegram's retry_after, and the send is retried", async () => {
    await addProvider(key, TELEGRAM());
    mockProviders({ [API]: json(429, { ok: false, error_code: 429, description: "Too Many Requests: retry after 17", parameters: { retry_after: 17 } }) });
    const { retrySpies } = await send({ content: "Hello" });
    expect(retrySpies[0]!.mock.calls[0]![0]!.delaySeconds).toBeGreaterThanOrEqual(17);
    const a = telegram.create(telegram.credentials.parse({ botToken: TOKEN }), telegram.settings.parse({ baseUrl: API }));
    expect(await a.send(outbound({ channel: "telegram", to: "1", subject: null }))).toMatchObject({ ok: false, failure: "retryable", retryAfterSeconds: 17, reason: "Telegram answered 429: Too Many Requests: retry after 17" });
  });

  it("a bot blocked by the user fails the send; a bad token fails over to the next bot", async () => {
    await addProvider(key, TELEGRAM({ priority: 1 }));
    await addProvider(key, TELEGRAM({ priority: 2, credentials: { botToken: "987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" }, settings: { baseUrl: "https://telegram-two.mock" } }));
    mockProviders({ [API]: json(403, { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" }) });
    const blocked = await send({ content: "Hello" });
    expect(await detail(key, blocked.id)).toMatchObject({ status: "failed", errorMessage: "Telegram answered 403: Forbidden: bot was blocked by the user" });
    // Blocked is for good, whichever bot tries: the second bot was never called, and the chat is suppressed.
    const list = await call("GET", "/api/suppressions?channel=telegram", { key });
    expect(list.json.results).toEqual([expect.objectContaining({ contact: "123456789", reason: "opt_out", detail: "Telegram: Forbidden: bot was blocked by the user", source: "telegram", communicationId: blocked.id })]);
    const silent = mockProviders({ [API]: sent(123456789, 8) });
    const later = await send({ content: "Hello again" });
    expect(silent.requests).toEqual([]);
    expect(await detail(key, later.id)).toMatchObject({ status: "suppressed", errorMessage: expect.stringMatching(/^suppressed: opt_out/) });
    expect((await call("DELETE", "/api/suppressions/telegram/123456789", { key })).status).toBe(204);

    const net = mockProviders({ [API]: json(401, { ok: false, error_code: 401, description: "Unauthorized" }), "https://telegram-two.mock": sent(123456789, 9) });
    const failedOver = await send({ content: "Hello" });
    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual([API, "https://telegram-two.mock"]);
    expect(await detail(key, failedOver.id)).toMatchObject({ status: "delivered", providerMessageId: "123456789:9" });
  });

  it("a deleted account is an opt-out and an unknown chat an invalid contact; other refusals suppress nothing", async () => {
    const a = telegram.create(telegram.credentials.parse({ botToken: TOKEN }), telegram.settings.parse({ baseUrl: API }));
    const answer = async (status: number, description: string) => {
      mockProviders({ [API]: json(status, { ok: false, error_code: status, description }) });
      return a.send(outbound({ channel: "telegram", to: "1", subject: null }));
    };
    expect(await answer(403, "Forbidden: user is deactivated")).toMatchObject({ failure: "permanent", suppress: { reason: "opt_out" } });
    expect(await answer(400, "Bad Request: chat not found")).toMatchObject({ failure: "permanent", suppress: { reason: "invalid", detail: "Telegram: Bad Request: chat not found" } });
    const badText = await answer(400, "Bad Request: can't parse entities");
    expect(badText).toMatchObject({ failure: "permanent" });
    expect(badText).not.toHaveProperty("suppress");
  });

  it("never puts the bot token on the timeline when the network fails", async () => {
    mockProviders({});
    const a = telegram.create(telegram.credentials.parse({ botToken: TOKEN }), telegram.settings.parse({ baseUrl: API }));
    await expect(a.send(outbound({ channel: "telegram", to: "1" }))).rejects.toThrow(/<url>/);
    await expect(a.send(outbound({ channel: "telegram", to: "1" }))).rejects.not.toThrow(new RegExp(TOKEN.split(":")[1]!));
  });

  it("refuses bad chat ids, long text and unknown payload fields at the API", async () => {
    await addProvider(key, TELEGRAM());
    const cases: [Record<string, unknown>, string][] = [
      [{ recipientContact: "not a chat" }, "recipientContact"],
      [{ content: "x".repeat(4097) }, "content"],
      [{ metadata: { telegram: { parse_mode: "BBCode" } } }, "metadata.telegram"],
    ];
    await expectRefused(key, { channel: "telegram", recipientContact: "123456789", content: "Hi" }, cases);
    expect((await call("POST", "/api/providers", { key, body: TELEGRAM({ credentials: { botToken: "nope" } }) })).status).toBe(422);
  });
});
