/**
 * Telegram inbound media end to end: a photo (its largest size), a document over the Bot API's
 * 20 MB and a voice note whose getFile fails, each in its own update. The photo is fetched through
 * getFile and the file endpoint into R2; the document is marked without a call; the voice keeps
 * its reference and why. The bot token is in the request paths only: never in what is stored,
 * listed or told to the tenant's webhook. Fixtures are typed with @grammyjs/types.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Message, Update } from "@grammyjs/types";
import { addProvider, call, captureEvents, createTenant, mockProviders, runMediaJobs } from "../helpers";
import { TELEGRAM_DOWNLOAD_MAX } from "../../src/conversations/media-fetch";

let events: ReturnType<typeof captureEvents>;
beforeEach(() => {
  vi.restoreAllMocks();
  events = captureEvents();
});

const API = "https://telegram.mock";
const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const SECRET = "tg-secret_0123456789abcdef";
const CHAT = 555000111;
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 9, 8, 7, 6]);

const update = (updateId: number, content: Partial<Message.CommonMessage> & Record<string, unknown>): Update =>
  ({
    update_id: updateId,
    message: { message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: CHAT, type: "private", first_name: "Ann" }, from: { id: CHAT, is_bot: false, first_name: "Ann" }, ...content },
  }) as Update;

async function post(configId: string, body: Update) {
  const res = await exports.default.fetch(`https://herald.test/webhooks/inbound/telegram/${configId}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

describe("Telegram inbound media", () => {
  it("fetches the largest photo through getFile, leaves a document over 20 MB untried, marks a failed getFile, and never stores the token", async () => {
    const { key, tenantId } = await createTenant();
    expect((await call("POST", "/api/webhooks", { key, body: { url: "https://hooks.acme.test/in", eventTypes: ["message.received"] } })).status).toBe(201);
    const p = await addProvider(key, { channel: "telegram", provider: "telegram", priority: 1, credentials: { botToken: TOKEN, webhookSecret: SECRET }, settings: { baseUrl: API } });
    const { requests } = mockProviders({
      [API]: (req) => {
        const url = new URL(req.url);
        if (url.pathname === `/bot${TOKEN}/getFile` && url.searchParams.get("file_id") === "photo-big")
          return Response.json({ ok: true, result: { file_id: "photo-big", file_unique_id: "u-big", file_size: JPEG.byteLength, file_path: "photos/file_7.jpg" } });
        if (url.pathname === `/bot${TOKEN}/getFile`) return Response.json({ ok: false, error_code: 400, description: "Bad Request: invalid file_id" }, { status: 400 });
        // Telegram's file endpoint names no type: the one the update gave is kept.
        if (url.pathname === `/file/bot${TOKEN}/photos/file_7.jpg`) return new Response(JPEG, { headers: { "content-type": "application/octet-stream" } });
        return new Response("Not Found", { status: 404 });
      },
    });
    const big = TELEGRAM_DOWNLOAD_MAX + 1;
    await post(p.id, update(7001, { caption: "receipt", photo: [{ file_id: "photo-small", file_unique_id: "u-small", width: 90, height: 90, file_size: 900 }, { file_id: "photo-big", file_unique_id: "u-big", width: 1280, height: 960, file_size: JPEG.byteLength }] }));
    await post(p.id, update(7002, { document: { file_id: "doc-big", file_unique_id: "u-doc", file_name: "scan.pdf", mime_type: "application/pdf", file_size: big } }));
    await post(p.id, update(7003, { voice: { file_id: "voice-gone", file_unique_id: "u-voice", duration: 3, mime_type: "audio/ogg", file_size: 4000 } }));
    // Nothing fetched while Telegram waited; the three webhooks' jobs are then one queue batch.
    expect(requests).toEqual([]);
    expect((await runMediaJobs(events)).jobs).toHaveLength(3);

    // The batch's downloads run side by side, so in no set order.
    expect(requests.map((r) => new URL(r.url).pathname + new URL(r.url).search).sort()).toEqual([
      `/bot${TOKEN}/getFile?file_id=photo-big`,
      `/bot${TOKEN}/getFile?file_id=voice-gone`,
      `/file/bot${TOKEN}/photos/file_7.jpg`,
    ]);

    const [thread] = (await call("GET", "/api/conversations?channel=telegram", { key })).json.results;
    const messages = (await call("GET", `/api/conversations/${thread.id}/messages`, { key })).json.results;
    const byId = (n: number) => messages.find((m: { providerMessageId: string }) => m.providerMessageId === `${CHAT}:${n}`);
    const photo = byId(7001);
    expect(photo.text).toBe("receipt");
    expect(photo.media).toEqual([{ url: "telegram-file:photo-big", contentType: "image/jpeg", size: JPEG.byteLength, stored: true, downloadUrl: `/api/conversations/${thread.id}/messages/${photo.id}/media/0` }]);
    expect(byId(7002).media).toEqual([
      { url: "telegram-file:doc-big", contentType: "application/pdf", size: big, filename: "scan.pdf", stored: false, error: `larger than the 20 MB Telegram lets bots download (${big} bytes), left at Telegram` },
    ]);
    expect(byId(7003).media).toEqual([{ url: "telegram-file:voice-gone", contentType: "audio/ogg", size: 4000, stored: false, error: "Telegram getFile: the provider answered 400" }]);

    const res = await exports.default.fetch(`https://herald.test${photo.media[0].downloadUrl}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(JPEG);

    const secret = TOKEN.split(":")[1]!;
    const stored = await env.DB.prepare("SELECT media FROM conversation_message WHERE tenant_id = ?1").bind(tenantId).all<{ media: string | null }>();
    expect(stored.results).toHaveLength(3);
    expect(JSON.stringify(stored.results)).not.toContain(secret);
    expect(JSON.stringify(messages)).not.toContain(secret);
    const told = await env.DB.prepare("SELECT payload FROM webhook_delivery WHERE tenant_id = ?1").bind(tenantId).all<{ payload: string }>();
    expect(told.results).toHaveLength(3);
    expect(JSON.stringify(told.results)).not.toContain(secret);
  });
});
