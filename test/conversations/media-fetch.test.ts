/**
 * fetchMedia on its own, against mock providers on loopback origins (allowed here explicitly, as
 * `ALLOW_LOOPBACK_URLS` allows them in local development): where credentials go, the deadline,
 * the redirect limit, the URL guard, Telegram's bot token kept out of every reason, and Slack's sent
 * to its files host only.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { hangs, mockProviders } from "../helpers";
import { fetchMedia, type MediaSource } from "../../src/conversations/media-fetch";

beforeEach(() => vi.restoreAllMocks());

const TWILIO: MediaSource = { provider: "twilio", credentials: { accountSid: "AC1", authToken: "t", apiKeySid: "SK1", apiKeySecret: "s" }, settings: { baseUrl: "http://127.0.0.1:8788" } };
const META: MediaSource = { provider: "meta_whatsapp", credentials: { accessToken: "EAAG" }, settings: { baseUrl: "http://127.0.0.1:8790", graphVersion: "v23.0" } };
const MESSENGER: MediaSource = { provider: "meta_messenger", credentials: { accessToken: "EAAG" }, settings: {} };
const TELEGRAM: MediaSource = { provider: "telegram", credentials: { botToken: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" }, settings: { baseUrl: "http://127.0.0.1:8793" } };
const local = { allowLoopback: true };

describe("fetchMedia", () => {
  it("sends Twilio's API key credentials to Twilio only, and keeps the response's type", async () => {
    const { requests } = mockProviders({
      "http://127.0.0.1:8788": () => new Response(null, { status: 302, headers: { location: "http://127.0.0.1:8789/cdn/ME1" } }),
      "http://127.0.0.1:8789": () => new Response("GIF89a", { headers: { "content-type": "image/gif" } }),
    });
    const got = await fetchMedia(TWILIO, "http://127.0.0.1:8788/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", local);
    expect(got).toMatchObject({ ok: true, contentType: "image/gif" });
    expect(got.ok && new TextDecoder().decode(got.bytes)).toBe("GIF89a");
    expect(requests.map((r) => [r.url, r.headers.get("authorization")])).toEqual([
      ["http://127.0.0.1:8788/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", `Basic ${btoa("SK1:s")}`],
      ["http://127.0.0.1:8789/cdn/ME1", null],
    ]);
  });

  it("gives up at the deadline, after 3 redirects, and on a Graph URL off Meta's hosts", async () => {
    mockProviders({
      "http://127.0.0.1:8788": (req) => (req.url.endsWith("/hang") ? hangs(req) : new Response(null, { status: 307, headers: { location: "/loop" } })),
      "http://127.0.0.1:8790": () => Response.json({ url: "http://127.0.0.1:8791/x", mime_type: "image/jpeg" }),
    });
    expect(await fetchMedia(TWILIO, "http://127.0.0.1:8788/hang", { ...local, timeoutMs: 200 })).toEqual({ ok: false, reason: "the download did not finish within 0.2 s", retryable: true });
    expect(await fetchMedia(TWILIO, "http://127.0.0.1:8788/loop", local)).toEqual({ ok: false, reason: "more than 3 redirects" });
    expect(await fetchMedia(META, "meta-media:123", local)).toEqual({ ok: false, reason: "the Graph media URL is not on Meta's hosts" });
    expect(await fetchMedia(META, "https://example.com/not-an-id", local)).toEqual({ ok: false, reason: "not a Meta media id" });
    // What may pass says so (the media job tries it again later); what cannot, does not.
    mockProviders({ "http://127.0.0.1:8788": (req) => new Response("no", { status: Number(req.url.split("/").pop()) }) });
    expect(await fetchMedia(TWILIO, "http://127.0.0.1:8788/503", local)).toEqual({ ok: false, reason: "the provider answered 503", retryable: true });
    expect(await fetchMedia(TWILIO, "http://127.0.0.1:8788/429", local)).toEqual({ ok: false, reason: "the provider answered 429", retryable: true });
    expect(await fetchMedia(TWILIO, "http://127.0.0.1:8788/404", local)).toEqual({ ok: false, reason: "the provider answered 404" });
  });

  it("passes every hop through the URL guard, and fetches Messenger's links without credentials", async () => {
    const { requests } = mockProviders({
      "http://127.0.0.1:8792": (req) => (req.url.endsWith("/to-private") ? new Response(null, { status: 302, headers: { location: "https://10.0.0.1/x" } }) : new Response("img", { headers: { "content-type": "image/png" } })),
    });
    expect(await fetchMedia(MESSENGER, "http://127.0.0.1:8792/img", { allowLoopback: false })).toEqual({ ok: false, reason: "the media URL must use https" });
    expect(await fetchMedia(MESSENGER, "http://127.0.0.1:8792/to-private", local)).toEqual({ ok: false, reason: "the media URL must not point at a private or local address" });
    expect(await fetchMedia(MESSENGER, "http://127.0.0.1:8792/img", local)).toMatchObject({ ok: true, contentType: "image/png" });
    expect(requests.map((r) => r.headers.get("authorization"))).toEqual([null, null]);
  });

  it("Telegram: a network error loses the bot token, and a file_path out of the file endpoint or a file over the cap is not downloaded", async () => {
    mockProviders({});
    const failed = await fetchMedia(TELEGRAM, "telegram-file:abc", local);
    expect(failed).toEqual({ ok: false, reason: expect.stringContaining("<url>"), retryable: true });
    expect(JSON.stringify(failed)).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");

    const { requests } = mockProviders({
      "http://127.0.0.1:8793": (req) =>
        Response.json({ ok: true, result: req.url.includes("file_id=climb") ? { file_id: "climb", file_path: "../../bot1:x/getMe" } : { file_id: "huge", file_path: "videos/file_1.mp4", file_size: 5000 } }),
    });
    expect(await fetchMedia(TELEGRAM, "telegram-file:climb", local)).toEqual({ ok: false, reason: "Telegram getFile: no usable file_path" });
    expect(await fetchMedia(TELEGRAM, "telegram-file:huge", { ...local, maxBytes: 4096 })).toEqual({ ok: false, reason: "larger than 4096 bytes, left at the provider" });
    expect(await fetchMedia(TELEGRAM, "https://api.telegram.org/file/bot1/x", local)).toEqual({ ok: false, reason: "not a Telegram file id" });
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual(["/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getFile", "/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getFile"]);
  });

  it("Slack: the bot token goes to the files host only (not to a redirect's other host), a sign-in page is no file, and files over the cap, without a URL or without a token are not fetched", async () => {
    const SLACK: MediaSource = { provider: "slack", credentials: { botToken: "xoxb-1-2-abc" }, settings: { baseUrl: "http://127.0.0.1:8794" } };
    const { requests } = mockProviders({
      "http://127.0.0.1:8794": (req) =>
        req.url.endsWith("/moved") ? new Response(null, { status: 302, headers: { location: "http://127.0.0.1:8795/cdn/F1" } })
        : req.url.endsWith("/no-scope") ? new Response("<!DOCTYPE html><title>Slack</title>", { headers: { "content-type": "text/html; charset=utf-8" } })
        : new Response("png", { headers: { "content-type": "image/png" } }),
      "http://127.0.0.1:8795": () => new Response("png", { headers: { "content-type": "image/png" } }),
    });
    expect(await fetchMedia(SLACK, "http://127.0.0.1:8794/files-pri/T1-F1/download/a.png", local, 3)).toMatchObject({ ok: true, contentType: "image/png" });
    expect(await fetchMedia(SLACK, "http://127.0.0.1:8794/files-pri/T1-F1/moved", local)).toMatchObject({ ok: true });
    expect(await fetchMedia(SLACK, "http://127.0.0.1:8794/files-pri/T1-F1/no-scope", local)).toEqual({ ok: false, reason: "Slack answered a web page, not the file: does the app have the files:read scope?" });
    expect(await fetchMedia(SLACK, "http://127.0.0.1:8795/files-pri/T1-F1/a.png", local)).toEqual({ ok: false, reason: "the file URL is not on files.slack.com" });
    expect(await fetchMedia(SLACK, "http://127.0.0.1:8794/files-pri/T1-F2/big.mov", { ...local, maxBytes: 4096 }, 5000)).toEqual({ ok: false, reason: "larger than 4096 bytes, left at the provider" });
    expect(await fetchMedia(SLACK, "slack-file:F3", local)).toEqual({ ok: false, reason: "Slack gave no download URL for this file" });
    expect(await fetchMedia({ ...SLACK, credentials: {} }, "http://127.0.0.1:8794/files-pri/T1-F1/a.png", local)).toEqual({ ok: false, reason: "the Slack config has no botToken to download files with" });
    expect(requests.map((r) => [r.url, r.headers.get("authorization")])).toEqual([
      ["http://127.0.0.1:8794/files-pri/T1-F1/download/a.png", "Bearer xoxb-1-2-abc"],
      ["http://127.0.0.1:8794/files-pri/T1-F1/moved", "Bearer xoxb-1-2-abc"],
      ["http://127.0.0.1:8795/cdn/F1", null],
      ["http://127.0.0.1:8794/files-pri/T1-F1/no-scope", "Bearer xoxb-1-2-abc"],
    ]);
  });
});
