/**
 * Inbound media into R2, under `<tenantId>/inbound/<messageId>/<n>` with its type, in two steps.
 * While the provider's webhook is answered (ingest.ts), `recordMedia` stores the bytes the route
 * already has (email attachments: no outbound call) and records every medium a provider only
 * links to as `pending`. The media job (media-job.ts, on the events queue) then fetches each
 * pending medium (media-fetch.ts) with the credentials of the config that received the message.
 * An item that could not be had keeps its provider reference and says why (`error`). The API
 * serves stored items at `GET /api/conversations/:id/messages/:messageId/media/:n`; mediaDto is
 * the one place that says what a client sees of an item (stored, pending, its `downloadUrl`).
 */
import type { Env } from "../env";
import type { ConversationMedia } from "../db/schema";
import type { ProviderConfigRow } from "../db/providers";
import { readProviderConfig } from "../pipeline/provider-configs";
import type { InboundMessage } from "./inbound";
import { FETCHES_MEDIA, fetchMedia, MEDIA_TIMEOUT_MS, type MediaSource } from "./media-fetch";
import { mapPool } from "../lib/pool";

type Item = NonNullable<InboundMessage["media"]>[number];

/**
 * Downloads (and R2 writes) at once: each download may hold up to MAX_MEDIA_BYTES in memory, and
 * an isolate has 128 MB.
 */
const AT_ONCE = 3;

export const mediaKey = (tenantId: string, messageId: string, n: number) => `${tenantId}/inbound/${messageId}/${n}`;

/** Still waiting for the media job: a linked medium neither stored nor given up on. */
export const isPending = (m: ConversationMedia) => m.pending === true;

/** The sources (decrypted credentials) of these configs, for the providers whose media are fetched. */
export async function mediaSources(key: string, rows: ProviderConfigRow[]): Promise<Map<string, MediaSource>> {
  const sources = await Promise.all(
    rows.filter((row) => FETCHES_MEDIA.has(row.provider)).map(async (row) => {
      try {
        const { credentials, settings } = await readProviderConfig(key, row);
        return [row.id, { provider: row.provider, credentials: credentials as Record<string, unknown>, settings: settings as Record<string, unknown> }] as const;
      } catch (error) {
        // A config that no longer opens: its media keep their references, the messages their events.
        console.error(JSON.stringify({ msg: "inbound media: provider config unusable", providerConfigId: row.id, error: String(error) }));
        return undefined;
      }
    }),
  );
  return new Map(sources.filter((s) => s !== undefined));
}

export type MessageMedia = { messageId: string; items: Item[] };

/**
 * The webhook's part, per message in order: bytes in hand go to R2 now, linked media are recorded
 * as pending (no outbound call here: a slow media host never delays the provider's answer).
 */
export async function recordMedia(env: Env, tenantId: string, messages: MessageMedia[]): Promise<ConversationMedia[][]> {
  const flat = messages.flatMap((m, i) => m.items.map((item, n) => ({ i, n, item, m })));
  const recorded = await mapPool(flat, AT_ONCE, async ({ item, n, m }): Promise<ConversationMedia> => {
    const base = { contentType: item.contentType, size: item.bytes?.byteLength ?? item.size, ...(item.filename ? { filename: item.filename } : {}) };
    if (item.bytes) return put(env, mediaKey(tenantId, m.messageId, n), { ...base, ...(item.url ? { url: item.url } : {}) }, item.bytes, item.contentType);
    return item.url ? { ...base, url: item.url, pending: true } : base;
  });
  const out = messages.map((): ConversationMedia[] => []);
  flat.forEach((f, k) => (out[f.i]![f.n] = recorded[k]!));
  return out;
}

/** One pending medium as the job fetches it; `retryable` when the failure may pass on a later try. */
export type Fetched = { medium: ConversationMedia; retryable: boolean };

/**
 * The job's part: fetches the pending items (each with its own MEDIA_TIMEOUT_MS) AT_ONCE at a
 * time and stores them; every other item is returned as it was.
 */
export async function fetchPending(
  env: Env,
  items: { tenantId: string; messageId: string; n: number; medium: ConversationMedia; source: MediaSource | undefined }[],
  allowLoopback: boolean,
): Promise<Fetched[]> {
  return mapPool(items, AT_ONCE, async ({ tenantId, messageId, n, medium, source }): Promise<Fetched> => {
    const { pending: _, error: __, ...base } = medium;
    // Only providers with a fetcher have a source (and a config that still opens); others keep the reference.
    if (!source || !base.url) return { medium: base, retryable: false };
    const got = await fetchMedia(source, base.url, { allowLoopback, timeoutMs: MEDIA_TIMEOUT_MS }, base.size || undefined);
    if (!got.ok) return { medium: { ...base, error: got.reason }, retryable: got.retryable === true };
    // The provider's own type (Twilio's MediaContentType, Meta's mime_type) unless it is only a kind ("image/*", a file).
    let contentType = base.contentType;
    if (!contentType || contentType.includes("*") || contentType === "application/octet-stream") contentType = got.contentType?.split(";")[0]?.trim() || contentType || "application/octet-stream";
    try {
      return { medium: await put(env, mediaKey(tenantId, messageId, n), base, got.bytes, contentType), retryable: false };
    } catch (error) {
      // R2 failing is ours, not the provider's: tried again like a download that may pass.
      return { medium: { ...base, error: `the download could not be stored: ${String(error)}`.slice(0, 300) }, retryable: true };
    }
  });
}

async function put(env: Env, key: string, base: ConversationMedia, bytes: Uint8Array, contentType: string): Promise<ConversationMedia> {
  await env.ATTACHMENTS.put(key, bytes, { httpMetadata: { contentType } });
  return { ...base, contentType, size: bytes.byteLength, key };
}

/**
 * Media as the API and `message.received` show it: the R2 key stays inside; a stored item has its
 * download path, one still being fetched says `pending: true` (and has no download path yet).
 */
export const mediaDto = (conversationId: string, messageId: string, media: ConversationMedia[] | null) =>
  (media ?? []).map(({ key, pending, ...m }, n) => ({
    ...m,
    stored: !!key,
    ...(pending ? { pending: true as const } : {}),
    ...(key ? { downloadUrl: `/api/conversations/${conversationId}/messages/${messageId}/media/${n}` } : {}),
  }));
