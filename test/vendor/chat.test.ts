/**
 * Cross-checks the chat adapters against the vendors' own artefacts, in Node:
 * - Slack: our chat.postMessage body is a `ChatPostMessageArguments` and carries what
 *   `@slack/web-api`'s WebClient sends for the same message; our incoming-webhook body equals
 *   what `@slack/webhook`'s IncomingWebhook posts (both SDKs pointed at a loopback capture server);
 * - Discord: our webhook body is a `RESTPostAPIWebhookWithTokenJSONBody` (discord-api-types) and
 *   our URL is the `Routes.webhook` path;
 * - Telegram: our sendMessage body fits the Bot API's `sendMessage` parameters, our media calls
 *   (sendPhoto, sendDocument, sendMediaGroup, files uploaded under their parameter's name or an
 *   `attach://` one) fit theirs, albums grouped as `sendMediaGroup`'s `media` union allows, and our inbound
 *   parser reads `Update`s typed by @grammyjs/types, photos (`PhotoSize`) and documents included,
 *   and fetchMedia reads a `getFile` answer that is a `File` (from a loopback Bot API);
 * - Teams: our text card equals the one `@microsoft/teams.cards` builds.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient, type ChatPostMessageArguments, type KnownBlock } from "@slack/web-api";
import { IncomingWebhook } from "@slack/webhook";
import { Routes, type RESTPostAPIWebhookWithTokenJSONBody } from "discord-api-types/v10";
import type { ApiMethods, Document, File, PhotoSize, Update } from "@grammyjs/types";
import { AdaptiveCard, TextBlock } from "@microsoft/teams.cards";
import { slackBody } from "../../src/channels/chat/slack";
import { discordBody, waitUrl, type DiscordBody } from "../../src/channels/chat/discord";
import { telegramBody, type TelegramBody } from "../../src/channels/chat/telegram";
import { telegramCalls, type TelegramCall } from "../../src/channels/chat/telegram-media";
import { textCard } from "../../src/channels/chat/teams";
import { parseTelegramInbound } from "../../src/channels/telegram/telegram-inbound";
import { fetchMedia } from "../../src/conversations/media-fetch";

type Captured = { path: string; headers: IncomingMessage["headers"]; body: string };
const captured: Captured[] = [];
let origin = "";
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    captured.push({ path: req.url ?? "", headers: req.headers, body });
    if (req.url?.includes("/getFile?file_id=")) {
      const file: File = { file_id: new URL(req.url, "http://x").searchParams.get("file_id")!, file_unique_id: "AgADBAAD", file_size: 4, file_path: "documents/file_3.pdf" };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, result: file }));
    } else if (req.url?.startsWith("/file/bot")) res.end("%PDF");
    else if (req.url?.startsWith("/api/")) {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, channel: "C0123456789", ts: "1700000000.000100" }));
    } else res.end("ok");
  });
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
const take = () => {
  expect(captured).toHaveLength(1);
  return captured.pop()!;
};

const blocks = [
  { type: "header", text: { type: "plain_text", text: "Invoice INV-1" } },
  { type: "section", text: { type: "mrkdwn", text: "*Total* $10, due _Friday_" } },
];

describe("Slack", () => {
  it("our chat.postMessage body is what WebClient sends for the same arguments", async () => {
    const shaped = slackBody({ to: "C0123456789", subject: null, content: JSON.stringify({ blocks, text: "Invoice INV-1: $10" }) }, { unfurlLinks: false });
    if (!shaped.ok) throw new Error(shaped.reason);
    // Typed by Slack's own argument type: a field Slack does not know, or of another type, fails
    // tsc. Our blocks are the tenant's JSON (unknown[]); Slack's union wants them as KnownBlocks.
    const { blocks: ours, channel, ...rest } = shaped.body;
    const args: ChatPostMessageArguments = { ...rest, channel: channel!, blocks: ours as KnownBlock[] };
    const client = new WebClient("xoxb-1234-5678-abcdef", { slackApiUrl: `${origin}/api/`, retryConfig: { retries: 0 } });
    await client.chat.postMessage(args);
    const sent = take();
    expect(sent.path).toBe("/api/chat.postMessage");
    expect(sent.headers.authorization).toBe("Bearer xoxb-1234-5678-abcdef");
    // WebClient posts a form with nested values as JSON; read back, it is our body.
    const form = Object.fromEntries(new URLSearchParams(sent.body));
    const decoded = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, /^[[{]|^(true|false)$/.test(v) ? JSON.parse(v) : v]));
    expect(decoded).toEqual(shaped.body);
  });

  it("our incoming-webhook body equals IncomingWebhook's", async () => {
    const url = `${origin}/services/T000/B000/XXXX`;
    const shaped = slackBody({ to: url, subject: "Deploy", content: "finished in 42s" }, { unfurlLinks: true });
    if (!shaped.ok) throw new Error(shaped.reason);
    expect(shaped.body.channel).toBeUndefined();
    await new IncomingWebhook(url).send({ text: shaped.body.text, unfurl_links: true, unfurl_media: true });
    expect(JSON.parse(take().body)).toEqual(shaped.body);
  });
});

describe("Discord", () => {
  it("our webhook body is a RESTPostAPIWebhookWithTokenJSONBody, posted to Routes.webhook with wait", () => {
    const embeds = [{ title: "INV-1", description: "Due Friday", color: 0x2b6cb0, fields: [{ name: "Total", value: "$10", inline: true }] }];
    const shaped = discordBody({ subject: "Invoice", content: "New invoice", chat: { embeds } }, { username: "Acme" });
    if (!shaped.ok) throw new Error(shaped.reason);
    const body: RESTPostAPIWebhookWithTokenJSONBody = shaped.body as DiscordBody & RESTPostAPIWebhookWithTokenJSONBody;
    expect(body).toEqual({ username: "Acme", allowed_mentions: { parse: [] }, embeds, content: "**Invoice**\nNew invoice" });
    const url = new URL(waitUrl(`https://discord.com/api/v10${Routes.webhook("1234567890", "tok")}`));
    expect(url.pathname).toBe("/api/v10/webhooks/1234567890/tok");
    expect(url.searchParams.get("wait")).toBe("true");
  });
});

describe("Telegram", () => {
  type SendMessage = Parameters<ApiMethods<unknown>["sendMessage"]>[0];
  it("our sendMessage body fits the Bot API's parameters", () => {
    const reply_markup = { inline_keyboard: [[{ text: "Pay", url: "https://pay.acme.test" }]] };
    const shaped = telegramBody({ to: "-1001234567890", subject: "Invoice", content: "Total <b>$10</b>", chat: { reply_markup } }, { parseMode: "HTML", disableNotification: true });
    if (!shaped.ok) throw new Error(shaped.reason);
    const params: SendMessage = shaped.body as TelegramBody & SendMessage;
    expect(params).toEqual({ chat_id: -1001234567890, text: "<b>Invoice</b>\nTotal <b>$10</b>", reply_markup, parse_mode: "HTML", disable_notification: true });
  });

  /** An uploaded file where the Bot API types put an InputFile: `F`. */
  type Upload = { upload: string };
  type Params<M extends keyof ApiMethods<Upload>> = Parameters<ApiMethods<Upload>[M]>[0];
  /** A call as the Bot API reads it: each multipart file in the parameter it fills, directly or by `attach://<field>`. */
  const asRead = (call: TelegramCall) => {
    const files = new Map(call.uploads.map((u) => [u.field, { upload: u.filename }]));
    const attached = (v: unknown) => (typeof v === "string" && v.startsWith("attach://") ? files.get(v.slice("attach://".length)) ?? v : v);
    const body: Record<string, unknown> = { ...call.body };
    if (Array.isArray(body.media)) body.media = body.media.map((m: Record<string, unknown>) => ({ ...m, media: attached(m.media) }));
    const referenced = JSON.stringify(call.body);
    for (const [field, file] of files) if (!referenced.includes(`"attach://${field}"`)) body[field] = file;
    return { method: call.method, body };
  };
  const callsFor = (content: string, attachments: Parameters<typeof telegramCalls>[1], chat?: Record<string, unknown>) => {
    const shaped = telegramBody({ to: "-1001234567890", subject: null, content, chat }, { parseMode: "HTML", disableNotification: true });
    if (!shaped.ok) throw new Error(shaped.reason);
    const calls = telegramCalls(shaped.body, attachments);
    if (!calls.ok) throw new Error(calls.reason);
    return calls.body.map(asRead);
  };

  it("our sendPhoto and sendDocument calls fit the Bot API's parameters, by URL and uploaded", () => {
    const reply_markup = { inline_keyboard: [[{ text: "Pay", url: "https://pay.acme.test" }]] };
    const photo: Params<"sendPhoto"> = { chat_id: -1001234567890, photo: "https://files.acme.test/chart.png", caption: "Weekly <b>chart</b>", parse_mode: "HTML", reply_markup, disable_notification: true };
    expect(callsFor("Weekly <b>chart</b>", [{ filename: "chart.png", fileUrl: "https://files.acme.test/chart.png", mimeType: "image/png" }], { reply_markup })).toEqual([{ method: "sendPhoto", body: photo }]);
    const document: Params<"sendDocument"> = { chat_id: -1001234567890, document: { upload: "invoice.pdf" }, caption: "Invoice", parse_mode: "HTML", disable_notification: true };
    expect(callsFor("Invoice", [{ filename: "invoice.pdf", content: btoa("%PDF"), mimeType: "application/pdf" }])).toEqual([{ method: "sendDocument", body: document }]);
  });

  it("our albums are sendMediaGroup calls whose media the Bot API's union allows, text too long for a caption sent first", () => {
    const send: Params<"sendMessage"> = { chat_id: -1001234567890, text: "t".repeat(1500), parse_mode: "HTML", disable_notification: true };
    const visual: Params<"sendMediaGroup"> = {
      chat_id: -1001234567890,
      disable_notification: true,
      media: [
        { type: "photo", media: "https://files.acme.test/a.png" },
        { type: "video", media: { upload: "b.mp4" } },
      ],
    };
    const documents: Params<"sendMediaGroup"> = {
      chat_id: -1001234567890,
      disable_notification: true,
      media: [
        { type: "document", media: { upload: "c.csv" } },
        { type: "document", media: "https://files.acme.test/d.pdf" },
      ],
    };
    const calls = callsFor(send.text, [
      { filename: "a.png", fileUrl: "https://files.acme.test/a.png", mimeType: "image/png" },
      { filename: "c.csv", content: btoa("a,b"), mimeType: "text/csv" },
      { filename: "b.mp4", content: btoa("mp4"), mimeType: "video/mp4" },
      { filename: "d.pdf", fileUrl: "https://files.acme.test/d.pdf", mimeType: "application/pdf" },
    ]);
    expect(calls).toEqual([
      { method: "sendMessage", body: send },
      { method: "sendMediaGroup", body: visual },
      { method: "sendMediaGroup", body: documents },
    ]);
  });

  it("reads Updates as @grammyjs/types describes them", () => {
    const update: Update = {
      update_id: 77,
      message: { message_id: 5, date: 1796000000, chat: { id: 42, type: "private", first_name: "Ann" }, from: { id: 42, is_bot: false, first_name: "Ann" }, text: "Paid, thanks" },
    };
    expect(parseTelegramInbound(JSON.stringify(update), "cfg", "telegram")).toMatchObject([{ providerMessageId: "42:5", from: "42", text: "Paid, thanks" }]);
  });

  it("reads a PhotoSize list and a Document, and fetches a file whose getFile answer is a File", async () => {
    const photo: PhotoSize[] = [
      { file_id: "AgAC-small", file_unique_id: "s", width: 90, height: 67, file_size: 1200 },
      { file_id: "AgAC-large", file_unique_id: "l", width: 1280, height: 960, file_size: 98000 },
    ];
    const document: Document = { file_id: "BQAC-doc", file_unique_id: "d", file_name: "invoice.pdf", mime_type: "application/pdf", file_size: 4 };
    const chat = { id: 42, type: "private" as const, first_name: "Ann" };
    const from = { id: 42, is_bot: false, first_name: "Ann" };
    const updates: Update[] = [
      { update_id: 78, message: { message_id: 6, date: 1796000000, chat, from, caption: "receipt", photo } },
      { update_id: 79, message: { message_id: 7, date: 1796000000, chat, from, document } },
    ];
    const [withPhoto, withDocument] = updates.map((u) => parseTelegramInbound(JSON.stringify(u), "cfg", "telegram")[0]!);
    expect(withPhoto!.media).toEqual([{ contentType: "image/jpeg", size: 98000, url: "telegram-file:AgAC-large" }]);
    expect(withDocument!.media).toEqual([{ contentType: "application/pdf", size: 4, url: "telegram-file:BQAC-doc", filename: "invoice.pdf" }]);

    const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    const got = await fetchMedia({ provider: "telegram", credentials: { botToken: token }, settings: { baseUrl: origin } }, withDocument!.media![0]!.url!, { allowLoopback: true }, 4);
    expect(got.ok && new TextDecoder().decode(got.bytes)).toBe("%PDF");
    expect(captured.splice(0).map((c) => c.path)).toEqual([`/bot${token}/getFile?file_id=BQAC-doc`, `/file/bot${token}/documents/file_3.pdf`]);
  });
});

describe("Microsoft Teams", () => {
  it("our text card is the one the Adaptive Card builder makes", () => {
    const built = JSON.parse(
      JSON.stringify(new AdaptiveCard(new TextBlock("Invoice INV-1", { weight: "Bolder", size: "Medium", wrap: true }), new TextBlock("Total $10", { wrap: true })).withVersion("1.4").with$schema("http://adaptivecards.io/schemas/adaptive-card.json")),
    );
    // The builder also writes its defaults (isVisible, spacing…): ours is the same card without them.
    expect(built).toMatchObject(textCard("Invoice INV-1", "Total $10"));
  });
});
