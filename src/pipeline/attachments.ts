/**
 * Attachments at accept time, and their stored copies' life. D1 rows cap at about 1 MB and queue
 * messages at 128 KB, so only a little inline content stays in the row: past INLINE_KEEP_BYTES a
 * file goes to the ATTACHMENTS bucket under a key scoped by tenant and communication, and the row
 * keeps { filename, mimeType, size, storageKey }. Known sizes are checked against the channel's
 * providers here, so a file no provider can take is a 422 naming it, not a failure later.
 */
import type { Db } from "../db/client";
import type { CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import { cachedProviders } from "../cache/tenant-config";
import type { Channel } from "../domain";
import type { Attachment } from "../db/schema";
import { attachmentProblem, type SizedFile } from "../channels/attachment-limits";
import { base64Decode, decodedLength } from "../lib/base64";
import { AppError, type FieldError } from "../lib/errors";

/** Inline bytes a row may keep in total; anything past it is stored in the bucket. */
export const INLINE_KEEP_BYTES = 64 * 1024;

export const storageKey = (tenantId: string, communicationId: string, index: number) => `${tenantId}/${communicationId}/${index}`;

/** What the limits see of a communication's files; sizes of URL-only files are not known yet. */
export const sizedFiles = (attachments: Attachment[]): SizedFile[] =>
  attachments.map((a, index) => ({ index, filename: a.filename, mimeType: a.mimeType, size: a.size ?? (a.content ? decodedLength(a.content) : undefined) }));

/**
 * A checker for one request: for each row with attachments, a 422 when every enabled provider of
 * its channel refuses them, naming the file (`attachments.<i>`) or the whole list. The channel's
 * providers come from the tenant's per-isolate snapshot, read once per checker.
 */
export function attachmentChecker(db: Db, tenantId: string) {
  // One answer per request, even if the snapshot moves mid-batch.
  const providers = new Map<Channel, Promise<ProviderConfigRow[]>>();
  const providersOf = (channel: Channel) => {
    if (!providers.has(channel)) providers.set(channel, cachedProviders(db, tenantId, channel));
    return providers.get(channel)!;
  };
  return (rows: CommunicationRow[], prefix = "") => checkLimits(rows, prefix, providersOf);
}

async function checkLimits(rows: CommunicationRow[], prefix: string, providersOf: (channel: Channel) => Promise<ProviderConfigRow[]>) {
  const withFiles = rows.filter((r) => r.attachments?.length && r.status !== "suppressed");
  const issues: FieldError[] = [];
  for (const row of withFiles) {
    const files = sizedFiles(row.attachments!);
    const problems = (await providersOf(row.channel)).map((p) => attachmentProblem(p.provider, files));
    if (problems.length === 0 || problems.some((p) => p === undefined)) continue;
    const first = problems[0]!;
    const field = first.index === undefined ? `${prefix}attachments` : `${prefix}attachments.${first.index}`;
    const others = problems.length > 1 ? ` (and no other ${row.channel} provider configured takes them)` : "";
    issues.push({ field, message: `${first.reason}${others}` });
  }
  if (issues.length) throw new AppError("validation_failed", "attachments exceed what the channel's providers accept", issues);
}

/**
 * Moves large inline content into the bucket, rewriting the rows in place; returns the keys
 * written, for the caller to delete if storing the rows fails afterwards.
 */
export async function stashAttachments(bucket: R2Bucket, rows: CommunicationRow[]): Promise<string[]> {
  const written: string[] = [];
  for (const row of rows) {
    if (!row.attachments?.length) continue;
    let inline = 0;
    row.attachments = await Promise.all(
      row.attachments.map(async (a, index): Promise<Attachment> => {
        if (!a.content) return a;
        const size = decodedLength(a.content);
        if (inline + size <= INLINE_KEEP_BYTES) {
          inline += size;
          return { ...a, size };
        }
        const key = storageKey(row.tenantId, row.id, index);
        await bucket.put(key, base64Decode(a.content), { httpMetadata: a.mimeType ? { contentType: a.mimeType } : undefined });
        written.push(key);
        return { filename: a.filename, ...(a.mimeType ? { mimeType: a.mimeType } : {}), size, storageKey: key };
      }),
    );
  }
  return written;
}

/** Runs `store`; if it throws, the stashed objects its rows would have referenced are removed. */
export async function orUnstash<T>(bucket: R2Bucket, keys: string[], store: () => Promise<T>): Promise<T> {
  try {
    return await store();
  } catch (error) {
    if (keys.length) await bucket.delete(keys);
    throw error;
  }
}

/** A resend carries its own copies: erasing or expiring one communication never breaks another. */
export async function copyAttachments(bucket: R2Bucket, attachments: Attachment[] | null, to: Pick<CommunicationRow, "tenantId" | "id">): Promise<Attachment[] | null> {
  if (!attachments?.length) return attachments;
  return Promise.all(
    attachments.map(async (a, index) => {
      if (!a.storageKey) return a;
      const object = await bucket.get(a.storageKey);
      if (!object) throw new AppError("conflict", `attachment ${a.filename} of the original is no longer stored`, [{ field: `attachments.${index}`, message: "erased or expired; send it again" }]);
      const key = storageKey(to.tenantId, to.id, index);
      await bucket.put(key, await object.arrayBuffer(), { httpMetadata: object.httpMetadata });
      return { ...a, storageKey: key };
    }),
  );
}

export const storedKeys = (rows: { attachments: Attachment[] | null }[]) =>
  rows.flatMap((r) => (r.attachments ?? []).flatMap((a) => (a.storageKey ? [a.storageKey] : [])));

/** Deletes stored attachment objects, at most 1000 keys per call as R2 allows. */
export async function deleteStored(bucket: R2Bucket, keys: string[]) {
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}
