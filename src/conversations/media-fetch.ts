/**
 * Inbound media that providers only link to, fetched with the receiving config's credentials:
 * Twilio's `MediaUrl<n>` (HTTP Basic with the account's credentials; Twilio answers with a
 * redirect to a short-lived CDN URL, followed without them), Meta WhatsApp's media id (Graph
 * `GET /{media-id}` names a download URL, fetched with the same bearer token) and Messenger's
 * signed attachment URL (no credentials) and Telegram's file id (`getFile` names a `file_path`,
 * downloaded from the Bot API's file endpoint; the bot token is in both paths, so an error that
 * quotes one is rethrown without it) and Slack's `url_private_download` (the bot token as
 * `Authorization: Bearer`, to files.slack.com only; the app needs `files:read`). Credentials only ever go to the provider's own hosts;
 * every hop passes the URL guard; a download is bounded in bytes and time. A failure is a reason,
 * never an exception: the message is stored anyway, its media marked with why.
 */
import { unsafeUrlReason } from "../lib/url-guard";
import { base64Encode } from "../lib/base64";
import { joinBase } from "../lib/http";
import { readCapped } from "../pipeline/attachment-delivery";
import { withoutUrl } from "../channels/chat/common";

/** WhatsApp's largest video; a larger file (a WhatsApp document can be 100 MB) is left at the provider. */
export const MAX_MEDIA_BYTES = 16 * 1024 * 1024;
/**
 * One medium's download, every hop included. The media job runs off the webhook request
 * (media-job.ts), so this no longer has to fit inside a provider's wait for the answer; it bounds
 * how long one slow host holds a connection of the queue consumer's six.
 */
export const MEDIA_TIMEOUT_MS = 30_000;
const MAX_HOPS = 3;

export type MediaSource = { provider: string; credentials: Record<string, unknown>; settings: Record<string, unknown> };
/** `retryable`: the failure may pass (a timeout, a dropped connection, a 5xx or 429), so the media job tries again later. */
export type FetchedMedia = { ok: true; bytes: Uint8Array; contentType: string | null } | { ok: false; reason: string; retryable?: true };
type Limits = { allowLoopback: boolean; maxBytes?: number; timeoutMs?: number };

/** The providers whose linked media are fetched. */
export const FETCHES_MEDIA: ReadonlySet<string> = new Set(["twilio", "meta_whatsapp", "meta_messenger", "telegram", "slack"]);

/** The Bot API's `getFile` refuses larger files ("file is too big"): only a self-hosted Bot API server hands them out. */
export const TELEGRAM_DOWNLOAD_MAX = 20 * 1024 * 1024;

const TWILIO_API = "https://api.twilio.com";
const GRAPH_API = "https://graph.facebook.com";
const TELEGRAM_API = "https://api.telegram.org";
const SLACK_FILES = "https://files.slack.com";
/** Where Graph's media URLs point (`lookaside.fbsbx.com`). */
const META_CDN = /(^|\.)fbsbx\.com$/;

const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
const originOf = (url: string | undefined) => {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
};

/** The bytes behind an inbound media reference (of `size` bytes, when the provider said), or why they could not be had. */
export async function fetchMedia(source: MediaSource, reference: string, limits: Limits, size?: number): Promise<FetchedMedia> {
  const signal = AbortSignal.timeout(limits.timeoutMs ?? MEDIA_TIMEOUT_MS);
  const max = limits.maxBytes ?? MAX_MEDIA_BYTES;
  try {
    switch (source.provider) {
      case "twilio":
        return await twilioMedia(source, reference, { ...limits, signal, max });
      case "meta_whatsapp":
        return await metaMedia(source, reference, { ...limits, signal, max });
      case "meta_messenger":
        return await download(reference, {}, () => false, { ...limits, signal, max });
      case "telegram":
        return await telegramMedia(source, reference, size, { ...limits, signal, max });
      case "slack":
        return await slackMedia(source, reference, size, { ...limits, signal, max });
      default:
        return { ok: false, reason: `media from ${source.provider} is not fetched` };
    }
  } catch (error) {
    const e = error as Error;
    if (e.name === "TimeoutError" || signal.aborted) return { ok: false, reason: `the download did not finish within ${Math.round((limits.timeoutMs ?? MEDIA_TIMEOUT_MS) / 100) / 10} s`, retryable: true };
    return { ok: false, reason: `the download failed: ${e.message}`.slice(0, 300), retryable: true };
  }
}

type Run = Limits & { signal: AbortSignal; max: number };

function twilioMedia(source: MediaSource, url: string, run: Run) {
  const { accountSid, authToken, apiKeySid, apiKeySecret } = source.credentials;
  const hosts = new Set([TWILIO_API, originOf(str(source.settings.baseUrl))]);
  if (!hosts.has(originOf(url))) return Promise.resolve<FetchedMedia>({ ok: false, reason: "the media URL is not on Twilio's API host" });
  const user = str(apiKeySid) && str(apiKeySecret) ? `${apiKeySid}:${apiKeySecret}` : `${str(accountSid)}:${str(authToken)}`;
  return download(url, { authorization: `Basic ${base64Encode(user)}` }, (o) => hosts.has(o), run);
}

async function metaMedia(source: MediaSource, reference: string, run: Run): Promise<FetchedMedia> {
  const id = /^meta-media:([A-Za-z0-9_-]{1,128})$/.exec(reference)?.[1];
  if (!id) return { ok: false, reason: "not a Meta media id" };
  const base = str(source.settings.baseUrl) ?? GRAPH_API;
  const auth = { authorization: `Bearer ${str(source.credentials.accessToken)}` };
  const mine = (o: string) => o === originOf(base) || o === GRAPH_API || META_CDN.test(new URL(o).hostname);
  const info = await download(joinBase(base, `/${str(source.settings.graphVersion) ?? "v23.0"}/${id}`), auth, mine, { ...run, max: 64 * 1024 });
  if (!info.ok) return { ...info, reason: `Graph media lookup: ${info.reason}` };
  const answer = jsonOf<{ url?: unknown; mime_type?: unknown; file_size?: unknown }>(info.bytes);
  if (!answer) return { ok: false, reason: "Graph media lookup: not JSON" };
  const url = str(answer.url);
  if (!url) return { ok: false, reason: "Graph media lookup: no url" };
  if (typeof answer.file_size === "number" && answer.file_size > run.max) return tooLarge(run.max);
  if (!mine(originOf(url) ?? "")) return { ok: false, reason: "the Graph media URL is not on Meta's hosts" };
  const file = await download(url, auth, mine, run);
  return file.ok ? { ...file, contentType: file.contentType ?? str(answer.mime_type) ?? null } : file;
}

async function telegramMedia(source: MediaSource, reference: string, size: number | undefined, run: Run): Promise<FetchedMedia> {
  const id = /^telegram-file:([A-Za-z0-9_-]{1,256})$/.exec(reference)?.[1];
  if (!id) return { ok: false, reason: "not a Telegram file id" };
  if (size && size > TELEGRAM_DOWNLOAD_MAX) return { ok: false, reason: `larger than the 20 MB Telegram lets bots download (${size} bytes), left at Telegram` };
  const token = str(source.credentials.botToken);
  if (!token) return { ok: false, reason: "the bot's config has no botToken" };
  const base = str(source.settings.baseUrl) ?? TELEGRAM_API;
  const get = (path: string, r: Run) => {
    const url = joinBase(base, path);
    return download(url, {}, () => false, r).catch((e: unknown) => {
      throw withoutUrl(e, url);
    });
  };
  const info = await get(`/bot${token}/getFile?file_id=${encodeURIComponent(id)}`, { ...run, max: 64 * 1024 });
  if (!info.ok) return { ...info, reason: `Telegram getFile: ${info.reason}` };
  const answer = jsonOf<{ result?: { file_path?: unknown; file_size?: unknown } }>(info.bytes);
  if (!answer) return { ok: false, reason: "Telegram getFile: not JSON" };
  const path = str(answer.result?.file_path);
  // A relative path under the file endpoint ("photos/file_0.jpg"), never one that climbs out of it.
  if (!path || !/^[\w.-]+(\/[\w.-]+)*$/.test(path) || path.split("/").includes("..")) return { ok: false, reason: "Telegram getFile: no usable file_path" };
  const bytes = answer.result?.file_size;
  if (typeof bytes === "number" && bytes > run.max) return tooLarge(run.max);
  return get(`/file/bot${token}/${path}`, run);
}

async function slackMedia(source: MediaSource, url: string, size: number | undefined, run: Run): Promise<FetchedMedia> {
  // Files Slack gives no URL for (a Slack Connect file to look up with files.info) stay references.
  if (url.startsWith("slack-file:")) return { ok: false, reason: "Slack gave no download URL for this file" };
  if (size && size > run.max) return tooLarge(run.max);
  const token = str(source.credentials.botToken);
  if (!token) return { ok: false, reason: "the Slack config has no botToken to download files with" };
  // The config's baseUrl is where its token already goes (chat.postMessage): a test's mock, or a proxy.
  const hosts = new Set([SLACK_FILES, originOf(str(source.settings.baseUrl)) ?? SLACK_FILES]);
  if (!hosts.has(originOf(url) ?? "")) return { ok: false, reason: "the file URL is not on files.slack.com" };
  const file = await download(url, { authorization: `Bearer ${token}` }, (o) => hosts.has(o), run);
  // A token without files:read is answered with Slack's sign-in page (200, HTML), not an error.
  // (A customer's own .html upload is caught too: it keeps its reference, as any failure does.)
  if (file.ok && /^text\/html\b/i.test(file.contentType ?? "")) return { ok: false, reason: "Slack answered a web page, not the file: does the app have the files:read scope?" };
  return file;
}

/** A lookup's JSON object (fields still unchecked), or undefined. */
function jsonOf<T extends object>(bytes: Uint8Array): Partial<T> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === "object" && value !== null ? (value as Partial<T>) : undefined;
  } catch {
    return undefined;
  }
}

const tooLarge = (max: number): FetchedMedia => ({ ok: false, reason: `larger than ${max} bytes, left at the provider` });

/**
 * GET with redirects followed by hand (at most MAX_HOPS): each hop must pass the URL guard, and
 * the credentials go only to origins `trusted` names. The body is read up to `max` bytes.
 */
async function download(url: string, headers: Record<string, string>, trusted: (origin: string) => boolean, run: Run): Promise<FetchedMedia> {
  let target = url;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const unsafe = unsafeUrlReason(target, run.allowLoopback);
    if (unsafe) return { ok: false, reason: `the media URL ${unsafe}` };
    const origin = new URL(target).origin;
    const res = await fetch(target, { headers: hop === 0 || trusted(origin) ? headers : {}, redirect: "manual", signal: run.signal });
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      target = new URL(location, target).href;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, reason: `the provider answered ${res.status}`, ...(res.status >= 500 || res.status === 429 ? { retryable: true as const } : {}) };
    }
    const bytes = await readCapped(res, run.max);
    return bytes ? { ok: true, bytes, contentType: res.headers.get("content-type") } : tooLarge(run.max);
  }
  return { ok: false, reason: `more than ${MAX_HOPS} redirects` };
}
