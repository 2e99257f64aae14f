/**
 * Conversations under erasure and retention (issue 14): stored media objects are deleted from R2
 * before the rows that name them are blanked, so a failure part-way leaves rows that a retry
 * finds again, never objects nothing points at any more.
 */
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import type { RecipientRef } from "../db/recipients";
import type { ConversationMedia } from "../db/schema";
import {
  eraseThreads,
  mediaKeys,
  messagesDue,
  redactIdleThreads,
  redactMessages,
  storedMediaOfThreads,
  threadsOfRecipient,
} from "../db/conversation-privacy";
import { deleteStored } from "../pipeline/attachments";
import { eraseDeliveries } from "../db/webhook-privacy";

const THREADS_PER_PAGE = 500;

/**
 * Erases every thread of the recipient (see threadsOfRecipient). Erasing a page changes the
 * threads' contacts and recipient ids, so the next look finds only the rest.
 */
export async function eraseConversations(db: Db, bucket: R2Bucket, r: RecipientRef, contacts: string[], pseudonym: string, now: Date) {
  let conversations = 0;
  let media = 0;
  for (let page = await threadsOfRecipient(db, r, contacts, THREADS_PER_PAGE); page.length; page = await threadsOfRecipient(db, r, contacts, THREADS_PER_PAGE)) {
    const ids = page.map((t) => t.id);
    const keys = await storedMediaOfThreads(db, r.tenantId, ids);
    await deleteStored(bucket, keys);
    // Their message.received webhook payloads go in the same batch (src/db/webhook-privacy.ts).
    await runBatch(db, [...eraseThreads(db, r, ids, pseudonym), ...eraseDeliveries(db, r.tenantId, ids, now)]);
    conversations += ids.length;
    media += keys.length;
  }
  return { conversations, media };
}

/** One tenant's retention pass: up to `limit` messages stored before `cutoff`, and threads idle since. */
export async function expireConversations(db: Db, bucket: R2Bucket, tenantId: string, cutoff: Date, limit: number) {
  const due = await messagesDue(db, tenantId, cutoff, limit);
  await deleteStored(bucket, mediaKeys(due.map((m) => ({ media: m.media ? (JSON.parse(m.media) as ConversationMedia[]) : null }))));
  // One round trip for the messages however many parts of 90 ids they take.
  await runBatch(db, redactMessages(db, tenantId, due.map((m) => m.id)));
  await redactIdleThreads(db, tenantId, cutoff, limit);
  return due.length;
}
