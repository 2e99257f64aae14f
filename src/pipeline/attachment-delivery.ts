/**
 * Attachments at delivery: each provider gets them in the form it takes. Email APIs that want the
 * bytes get stored objects read from the bucket and `fileUrl`s fetched by Herald — through the
 * SSRF guard (redirects included), with a deadline and a size cap; Resend fetches a URL itself
 * (`path`), MMS and WhatsApp take URLs; Telegram takes URLs as they are except documents of types
 * it will not fetch, and uploads everything else, stored objects included. Every file is loaded at most once per delivery, however
 * many providers are tried. Once sizes are known, a provider whose limits they exceed is skipped
 * (failover); a missing stored object fails for good, a URL that cannot be fetched now is retried.
 */
import type { Attachment } from "../db/schema";
import type { CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import type { ProviderKind } from "../channels/kinds";
import type { FailureKind } from "../channels/types";
import { attachmentProblem, megabytes } from "../channels/attachment-limits";
import { unsafeUrlReason } from "../lib/url-guard";
import { base64Encode } from "../lib/base64";
import { MAX_INLINE_ATTACHMENT_BYTES } from "./send-request";
import { sizedFiles } from "./attachments";
import { telegramTakesUrl } from "../channels/chat/telegram-media";

/** Email APIs that take attachment bytes only; Resend also takes a URL, which it fetches. */
const NEEDS_BYTES: ReadonlySet<ProviderKind> = new Set(["sendgrid", "mailgun", "ses", "postmark", "resend"]);
const FETCHES_URLS: ReadonlySet<ProviderKind> = new Set(["resend"]);
/** Providers that fetch some URLs themselves and take everything else as bytes: which URLs. */
const UPLOADS_UNLESS: Partial<Record<ProviderKind, (a: Attachment) => boolean>> = { telegram: telegramTakesUrl };

/** Whether `kind` needs this file's bytes, which the loader then reads or fetches. */
function wantsBytes(kind: ProviderKind, a: Attachment): boolean {
  if (a.content) return false;
  if (NEEDS_BYTES.has(kind)) return !(a.fileUrl && FETCHES_URLS.has(kind));
  const takesUrl = UPLOADS_UNLESS[kind];
  return !!takesUrl && !(a.fileUrl && takesUrl(a));
}

const FETCH_TIMEOUT_MS = 15_000;
const MAX_FETCH_BYTES = MAX_INLINE_ATTACHMENT_BYTES;
const MAX_REDIRECTS = 3;

export type Prepared = { ok: true; attachments: Attachment[] } | { ok: false; failure: FailureKind; reason: string };
type Loaded = { ok: true; content: string; size: number } | { ok: false; failure: FailureKind; reason: string };

/** A loader for one communication's files, remembering what it read or fetched. */
export function attachmentLoader(bucket: R2Bucket, c: Pick<CommunicationRow, "attachments">) {
  const files = c.attachments ?? [];
  const loads = new Map<number, Promise<Loaded>>();
  const load = (a: Attachment, index: number) => {
    let p = loads.get(index);
    if (!p) loads.set(index, (p = a.storageKey ? readStored(bucket, a) : fetchFile(a)));
    return p;
  };

  /** The attachments as `row`'s provider takes them, or why it cannot. */
  return async function forProvider(row: Pick<ProviderConfigRow, "provider">): Promise<Prepared> {
    if (files.length === 0) return { ok: true, attachments: [] };
    const kind = row.provider;
    const out: Attachment[] = [];
    for (const [index, a] of files.entries()) {
      if (!wantsBytes(kind, a)) {
        out.push(a);
        continue;
      }
      const loaded = await load(a, index);
      if (!loaded.ok) return loaded;
      out.push({ filename: a.filename, ...(a.mimeType ? { mimeType: a.mimeType } : {}), content: loaded.content, size: loaded.size });
    }
    const problem = attachmentProblem(kind, sizedFiles(out));
    return problem ? { ok: false, failure: "provider", reason: problem.reason } : { ok: true, attachments: out };
  };
}

async function readStored(bucket: R2Bucket, a: Attachment): Promise<Loaded> {
  const object = await bucket.get(a.storageKey!);
  if (!object) return { ok: false, failure: "permanent", reason: `attachment ${a.filename} is no longer stored (erased or expired)` };
  const bytes = new Uint8Array(await object.arrayBuffer());
  return { ok: true, content: base64Encode(bytes), size: bytes.length };
}

/** Fetches a tenant's file URL as the guard allows, following redirects only to allowed hosts. */
async function fetchFile(a: Attachment): Promise<Loaded> {
  let url = a.fileUrl!;
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const unsafe = unsafeUrlReason(url, false);
      if (unsafe) return { ok: false, failure: "permanent", reason: `attachment ${a.filename}: its URL ${unsafe}` };
      const res = await fetch(url, { redirect: "manual", signal });
      if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
        await res.body?.cancel();
        url = new URL(res.headers.get("location")!, url).toString();
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        return { ok: false, failure: "retryable", reason: `attachment ${a.filename}: fetching it answered ${res.status}` };
      }
      const bytes = await readCapped(res, MAX_FETCH_BYTES);
      if (!bytes) return { ok: false, failure: "permanent", reason: `attachment ${a.filename} is larger than ${megabytes(MAX_FETCH_BYTES)}` };
      return { ok: true, content: base64Encode(bytes), size: bytes.length };
    }
    return { ok: false, failure: "permanent", reason: `attachment ${a.filename}: more than ${MAX_REDIRECTS} redirects` };
  } catch (error) {
    const e = error as Error;
    const why = e.name === "TimeoutError" ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : e.message;
    return { ok: false, failure: "retryable", reason: `attachment ${a.filename}: fetching it failed: ${why}` };
  }
}

/** The body, or undefined as soon as it passes `max` bytes (a lying Content-Length changes nothing). */
export async function readCapped(res: Response, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > max) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return bytes;
}
