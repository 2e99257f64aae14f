/**
 * Telegram with attachments, end to end: a photo by URL with the text as caption, a stored document
 * uploaded as multipart, a media group named by its first message, long text sent before the file,
 * a document type Telegram will not fetch fetched by Herald, a 400 and a 429; and the pure plan of
 * calls for the cases the pipeline tests do not reach (albums split by kind, buttons, limits).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, json, mockProviders, type RecordedRequest } from "../helpers";
import { freshTenant } from "./support";
import { deliverChat, detail } from "./chat-support";
import { base64Encode } from "../../src/lib/base64";
import { TELEGRAM_CAPTION_MAX, telegramCalls } from "../../src/channels/chat/telegram-media";
import { attachmentProblem } from "../../src/channels/attachment-limits";

const API = "https://telegram.mock";
const FILES = "https://files.acme.test";
const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const TELEGRAM = { channel: "telegram", provider: "telegram", priority: 1, credentials: { botToken: TOKEN }, settings: { baseUrl: API, parseMode: "HTML" } };
const message = (id: number) => ({ message_id: id, date: 1700000000, chat: { id: 123456789, type: "private" } });
const sent = (id: number) => json(200, { ok: true, result: message(id) });
/** Printable bytes that are not all alike: the recorded body is text, and a shifted copy cannot pass. */
const fileOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => 0x20 + ((i * 31 + (i >> 8)) % 95));

/** The multipart body Herald posted, read back as the Bot API would. */
const formOf = (r: RecordedRequest) => new Response(r.body, { headers: { "content-type": r.headers.get("content-type")! } }).formData();
const bytesOf = async (f: File | string | null) => new Uint8Array(await (f as File).arrayBuffer());

let key: string;
let queue: Awaited<ReturnType<typeof freshTenant>>["queue"];
beforeEach(async () => {
  ({ key, queue } = await freshTenant());
  await addProvider(key, TELEGRAM);
});
const send = (body: Record<string, unknown>) => deliverChat(key, queue, { channel: "telegram", recipientContact: "123456789", content: "Your <b>chart</b>", ...body });

describe("Telegram media", () => {
  it("sends one image by URL with sendPhoto, the text as its caption in the parse mode; Telegram fetches the URL", async () => {
    const net = mockProviders({ [API]: sent(42) });
    const { id } = await send({ subject: "Weekly", attachments: [{ filename: "chart.png", fileUrl: `${FILES}/chart.png`, mimeType: "image/png" }] });
    expect(net.requests.map((r) => r.url)).toEqual([`${API}/bot${TOKEN}/sendPhoto`]);
    expect(net.requests[0]!.headers.get("content-type")).toMatch(/^application\/json/);
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ chat_id: 123456789, photo: `${FILES}/chart.png`, caption: "<b>Weekly</b>\nYour <b>chart</b>", parse_mode: "HTML" });
    expect(await detail(key, id)).toMatchObject({ status: "delivered", providerMessageId: "123456789:42" });
  });

  it("uploads a document stored in R2 with sendDocument as multipart: the file's bytes, chat_id and caption", async () => {
    const pdf = fileOf(100_000); // past what a row keeps inline: stored in the bucket
    const net = mockProviders({ [API]: sent(43) });
    const { id } = await send({ content: "Invoice attached", attachments: [{ filename: "invoice.pdf", content: base64Encode(pdf), mimeType: "application/pdf" }] });
    expect((await detail(key, id)).attachments).toEqual([expect.objectContaining({ filename: "invoice.pdf", source: "stored" })]);
    expect(net.requests.map((r) => r.url)).toEqual([`${API}/bot${TOKEN}/sendDocument`]);
    expect(net.requests[0]!.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    const form = await formOf(net.requests[0]!);
    expect([...form.keys()].sort()).toEqual(["caption", "chat_id", "document", "parse_mode"]);
    expect(form.get("chat_id")).toBe("123456789");
    expect(form.get("caption")).toBe("Invoice attached");
    const file = form.get("document") as File;
    expect(file.name).toBe("invoice.pdf");
    expect(file.type).toBe("application/pdf");
    expect(await bytesOf(file)).toEqual(pdf);
    expect(await detail(key, id)).toMatchObject({ status: "delivered", providerMessageId: "123456789:43" });
  });

  it("sends a photo and a video as one sendMediaGroup, the caption on the first item, named by the first message", async () => {
    const clip = fileOf(2_000);
    const net = mockProviders({ [API]: json(200, { ok: true, result: [message(50), message(51)] }) });
    const { id } = await send({
      attachments: [
        { filename: "chart.png", fileUrl: `${FILES}/chart.png`, mimeType: "image/png" },
        { filename: "demo.mp4", content: base64Encode(clip), mimeType: "video/mp4" },
      ],
    });
    expect(net.requests.map((r) => r.url)).toEqual([`${API}/bot${TOKEN}/sendMediaGroup`]);
    const form = await formOf(net.requests[0]!);
    expect(form.get("chat_id")).toBe("123456789");
    expect(JSON.parse(form.get("media") as string)).toEqual([
      { type: "photo", media: `${FILES}/chart.png`, caption: "Your <b>chart</b>", parse_mode: "HTML" },
      { type: "video", media: "attach://file1" },
    ]);
    expect(await bytesOf(form.get("file1"))).toEqual(clip);
    expect(await detail(key, id)).toMatchObject({ status: "delivered", providerMessageId: "123456789:50" });
  });

  it("sends text longer than a caption first with sendMessage, then the file without caption; the text's message names the send", async () => {
    const long = "x".repeat(TELEGRAM_CAPTION_MAX + 1);
    const net = mockProviders({ [API]: (r) => (r.url.endsWith("/sendMessage") ? sent(60)() : sent(61)()) });
    const { id } = await send({ content: long, attachments: [{ filename: "chart.png", fileUrl: `${FILES}/chart.png`, mimeType: "image/png" }] });
    expect(net.requests.map((r) => new URL(r.url).pathname.split("/").pop())).toEqual(["sendMessage", "sendPhoto"]);
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ chat_id: 123456789, text: long, parse_mode: "HTML" });
    expect(JSON.parse(net.requests[1]!.body)).toEqual({ chat_id: 123456789, photo: `${FILES}/chart.png` });
    expect(await detail(key, id)).toMatchObject({ status: "delivered", providerMessageId: "123456789:60" });
  });

  it("once the text is out, a refused file fails the send for good, naming what arrived", async () => {
    mockProviders({ [API]: (r) => (r.url.endsWith("/sendMessage") ? sent(62)() : json(429, { ok: false, error_code: 429, description: "Too Many Requests: retry after 5", parameters: { retry_after: 5 } })()) });
    const { id, retrySpies } = await send({ content: "y".repeat(2000), attachments: [{ filename: "chart.png", fileUrl: `${FILES}/chart.png`, mimeType: "image/png" }] });
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await detail(key, id)).toMatchObject({ status: "failed", errorMessage: "part 2 of 2 failed after 123456789:62 was sent: Telegram answered 429: Too Many Requests: retry after 5" });
  });

  it("fetches a document type Telegram will not take by URL and uploads it; a PDF's URL goes as it is", async () => {
    const csv = fileOf(3_000);
    const net = mockProviders({ [API]: json(200, { ok: true, result: [message(70), message(71)] }), [FILES]: () => new Response(csv) });
    await send({
      attachments: [
        { filename: "export.csv", fileUrl: `${FILES}/export.csv`, mimeType: "text/csv" },
        { filename: "invoice.pdf", fileUrl: `${FILES}/invoice.pdf`, mimeType: "application/pdf" },
      ],
    });
    expect(net.requests.map((r) => r.url)).toEqual([`${FILES}/export.csv`, `${API}/bot${TOKEN}/sendMediaGroup`]);
    const form = await formOf(net.requests[1]!);
    expect(JSON.parse(form.get("media") as string)).toEqual([
      { type: "document", media: "attach://file0", caption: "Your <b>chart</b>", parse_mode: "HTML" },
      { type: "document", media: `${FILES}/invoice.pdf` },
    ]);
    const file = form.get("file0") as File;
    expect(file.name).toBe("export.csv");
    expect(await bytesOf(file)).toEqual(csv);
  });

  it("a 400 from Telegram fails the send with Telegram's words", async () => {
    mockProviders({ [API]: json(400, { ok: false, error_code: 400, description: "Bad Request: wrong file identifier/HTTP URL specified" }) });
    const { id, retrySpies } = await send({ attachments: [{ filename: "chart.png", fileUrl: `${FILES}/missing.png`, mimeType: "image/png" }] });
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await detail(key, id)).toMatchObject({ status: "failed", errorMessage: "Telegram answered 400: Bad Request: wrong file identifier/HTTP URL specified" });
  });

  it("a 429 is retried after Telegram's retry_after", async () => {
    const net = mockProviders({ [API]: json(429, { ok: false, error_code: 429, description: "Too Many Requests: retry after 23", parameters: { retry_after: 23 } }) });
    const { id, retrySpies } = await send({ attachments: [{ filename: "a.txt", content: base64Encode(fileOf(10)), mimeType: "text/plain" }] });
    expect(net.requests.map((r) => new URL(r.url).pathname.split("/").pop())).toEqual(["sendDocument"]);
    expect(retrySpies[0]!.mock.calls[0]![0]!.delaySeconds).toBeGreaterThanOrEqual(23);
    expect(await detail(key, id)).toMatchObject({ status: "queued", errorMessage: "Telegram answered 429: Too Many Requests: retry after 23" });
  });
});

describe("Telegram media calls (pure)", () => {
  const body = { chat_id: 1, text: "Hi", parse_mode: "HTML" };
  const url = (name: string, mimeType?: string) => ({ filename: name, fileUrl: `${FILES}/${name}`, ...(mimeType ? { mimeType } : {}) });
  const methods = (r: ReturnType<typeof telegramCalls>) => (r.ok ? r.body.map((c) => c.method) : r.reason);

  it("groups photos with videos, documents with documents and audio with audio; the caption goes on the first", () => {
    const calls = telegramCalls(body, [url("a.png", "image/png"), url("b.pdf", "application/pdf"), url("c.mp4", "video/mp4"), url("d.mp3", "audio/mpeg"), url("e.zip", "application/zip")]);
    expect(methods(calls)).toEqual(["sendMediaGroup", "sendMediaGroup", "sendAudio"]);
    if (!calls.ok) throw new Error(calls.reason);
    expect(calls.body[0]!.body.media).toEqual([
      { type: "photo", media: `${FILES}/a.png`, caption: "Hi", parse_mode: "HTML" },
      { type: "video", media: `${FILES}/c.mp4` },
    ]);
    expect(calls.body[1]!.body.media).toEqual([{ type: "document", media: `${FILES}/b.pdf` }, { type: "document", media: `${FILES}/e.zip` }]);
    expect(calls.body[2]!.body).toEqual({ chat_id: 1, audio: `${FILES}/d.mp3` });
  });

  it("splits an album past Telegram's 10 items, a lone last file going by its own method", () => {
    const photos = Array.from({ length: 11 }, (_, i) => url(`p${i}.jpg`, "image/jpeg"));
    const calls = telegramCalls(body, photos);
    expect(methods(calls)).toEqual(["sendMediaGroup", "sendPhoto"]);
    if (!calls.ok) throw new Error(calls.reason);
    expect(calls.body[0]!.body.media).toHaveLength(10);
    expect(calls.body[1]!.body).toEqual({ chat_id: 1, photo: `${FILES}/p10.jpg` });
  });

  it("keeps buttons with the text: on a single file's caption, on a message of its own before an album", () => {
    const reply_markup = { inline_keyboard: [[{ text: "Pay", url: "https://pay.acme.test" }]] };
    const one = telegramCalls({ ...body, reply_markup }, [url("a.bin")]);
    expect(one).toMatchObject({ ok: true, body: [{ method: "sendDocument", body: { document: `${FILES}/a.bin`, caption: "Hi", reply_markup } }] });
    const two = telegramCalls({ ...body, reply_markup }, [url("a.png", "image/png"), url("b.png", "image/png")]);
    expect(methods(two)).toEqual(["sendMessage", "sendMediaGroup"]);
    if (!two.ok) throw new Error(two.reason);
    expect(two.body[0]!.body).toEqual({ ...body, reply_markup });
    expect(JSON.stringify(two.body[1]!.body)).not.toMatch(/caption|reply_markup/);
  });

  it("takes a caption of exactly 1024 characters, and refuses a private file URL naming the attachment", () => {
    expect(methods(telegramCalls({ ...body, text: "z".repeat(TELEGRAM_CAPTION_MAX) }, [url("a.png", "image/png")]))).toEqual(["sendPhoto"]);
    expect(telegramCalls(body, [url("a.png"), { filename: "b.png", fileUrl: "https://10.0.0.7/b.png" }])).toMatchObject({ ok: false, field: "attachments.1" });
  });

  it("limits uploads to 10 MB for photos and 50 MB for other files", () => {
    const MB = 1024 * 1024;
    expect(attachmentProblem("telegram", [{ index: 0, filename: "a.jpg", mimeType: "image/jpeg", size: 10 * MB + 1 }])).toMatchObject({ index: 0, reason: expect.stringContaining("10.0 MB") });
    expect(attachmentProblem("telegram", [{ index: 0, filename: "a.jpg", mimeType: "image/jpeg", size: 10 * MB }])).toBeUndefined();
    expect(attachmentProblem("telegram", [{ index: 0, filename: "a.zip", mimeType: "application/zip", size: 50 * MB + 1 }])).toMatchObject({ reason: expect.stringContaining("50.0 MB") });
  });
});
