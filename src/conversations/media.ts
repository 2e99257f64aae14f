/**
 * Inbound media into R2, under `<tenantId>/inbound/<messageId>/<n>` with its type: bytes the
 * route already has (email attachments) are stored as they are; media a provider only links to
 * is fetched first (media-fetch.ts) with the credentials of the config that received the message,
 * read once per batch and only when some message needs it. An item that could not be had keeps
 * its provider reference and says why (`error`); the message is stored either way. The API serves
 * stored items at `GET /api/conversations/:id/messages/:messageId/media/:n` (mediaDto's `downloadUrl`).
 */
import type { Env } from "../env";
import type { Db } from "../db/client";
import type { ConversationMedia } from "../db/schema";
import { providerConfigsByIds } from "../db/providers";
import { readProviderConfig } from "../pipeline/provider-configs";
import type { InboundMessage } from "./inbound";
import { FETCHES_MEDIA, fetchMedia, MEDIA_TIMEOUT_MS, type MediaSource } from "./media-fetch";
import { mapPool } from "../lib/pool";

type Item = NonNullable<InboundMessage["media"]>[number];

/** The sources (decrypted credentials) of the configs whose messages carry media to fetch. */
export async function mediaSources(db: Db, key: string, tenantId: string, messages: InboundMessage[]): Promise<Map<string, MediaSource>> {
  const ids = [...new Set(messages.filter((m) => m.media?.some((i) => !i.bytes && i.url)).map((m) => m.providerConfigId))];
  if (ids.length === 0) return new Map();
  const rows = await providerConfigsByIds(db, tenantId, ids);
  const sources = await Promise.all(
    rows.filter((row) => FETCHES_MEDIA.has(row.provider)).map(async (row) => {
      try {
        const { credentials, settings } = await readProviderConfig(key, row);
        return [row.id, { provider: row.provider, credentials: credentials as Record<string, unknown>, settings: settings as Record<string, unknown> }] as const;
      } catch (error) {
        // A config that no longer opens: its media keep their references, the messages are still stored.
        console.error(JSON.stringify({ msg: "inbound media: provider config unusable", providerConfigId: row.id, error: String(error) }));
        return undefined;
      }
    }),
  );
  return new Map(sources.filter((s) => s !== undefined));
}

/**
 * Downloads (and R2 writes) at once across a batch: each download may hold up to MAX_MEDIA_BYTES
 * in memory, and an isolate has 128 MB. All of a batch's downloads share one MEDIA_TIMEOUT_MS, so
 * a ten-item MMS still answers Twilio inside its 15 s.
 */
const AT_ONCE = 3;

export type MessageMedia = { messageId: string; items: Item[]; source: MediaSource | undefined };

/** Stores the batch's media, per message in order; what cannot be stored keeps the reference and the reason. */
export async function storeMedia(env: Env, tenantId: string, messages: MessageMedia[], allowLoopback: boolean): Promise<ConversationMedia[][]> {
  const flat = messages.flatMap((m, i) => m.items.map((item, n) => ({ i, n, item, m })));
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  const stored = await mapPool(flat, AT_ONCE, ({ item, n, m }) => storeOne(env, `${tenantId}/inbound/${m.messageId}/${n}`, item, m.source, { allowLoopback, timeoutMs: deadline - Date.now() }));
  const out = messages.map((): ConversationMedia[] => []);
  flat.forEach((f, k) => (out[f.i]![f.n] = stored[k]!));
  return out;
}

async function storeOne(env: Env, key: string, item: Item, source: MediaSource | undefined, limits: { allowLoopback: boolean; timeoutMs: number }): Promise<ConversationMedia> {
  const base = { contentType: item.contentType, size: item.bytes?.byteLength ?? item.size, ...(item.filename ? { filename: item.filename } : {}) };
  let bytes = item.bytes;
  let contentType = item.contentType;
  if (!bytes) {
    if (!item.url) return base;
    // Only providers with a fetcher have a source (and a config that still opens); others keep the reference.
    if (!source) return { ...base, url: item.url };
    if (limits.timeoutMs < 100) return { ...base, url: item.url, error: `not fetched: the batch's ${MEDIA_TIMEOUT_MS / 1000} s for media had passed` };
    const got = await fetchMedia(source, item.url, limits, item.size);
    if (!got.ok) return { ...base, url: item.url, error: got.reason };
    bytes = got.bytes;
    // The provider's own type (Twilio's MediaContentType, Meta's mime_type) unless it is only a kind ("image/*", a file).
    if (!contentType || contentType.includes("*") || contentType === "application/octet-stream") contentType = got.contentType?.split(";")[0]?.trim() || contentType || "application/octet-stream";
  }
  await env.ATTACHMENTS.put(key, bytes, { httpMetadata: { contentType } });
  return { ...base, contentType, size: bytes.byteLength, key, ...(item.url ? { url: item.url } : {}) };
}

/** Media as the API and `message.received` show it: the R2 key stays inside, a stored item has its download path. */
export const mediaDto = (conversationId: string, messageId: string, media: ConversationMedia[] | null) =>
  (media ?? []).map(({ key, ...m }, n) => ({ ...m, stored: !!key, ...(key ? { downloadUrl: `/api/conversations/${conversationId}/messages/${messageId}/media/${n}` } : {}) }));
