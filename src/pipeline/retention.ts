/**
 * The retention cron pass (issue 14): for each tenant with a retention policy, redact what has
 * outlived it, stored attachment objects included. Bounded per pass, idempotent (redacted rows
 * are skipped), and never touches a communication still on its way out. Conversation messages
 * stored before the cutoff lose their text and media the same way (src/conversations/privacy.ts),
 * and so do finished tenant webhook deliveries' payloads (src/db/webhook-privacy.ts).
 * It also expires, for every tenant alike, what only matters for a while: Idempotency-Key records
 * after 24 h, campaign chunk records after 30 days (long after any queue message that could replay
 * one), and audit entries after AUDIT_RETENTION_DAYS.
 */
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { redactEvents } from "../db/recipients";
import { redactBefore, retentionDays, tenantsWithRetention } from "../db/retention";
import { chunk } from "../lib/chunk";
import { IDEMPOTENCY_TTL_MS } from "../db/communications";
import { deleteCreatedBefore } from "../db/expiry";
import { auditLog, campaignChunk, idempotencyKey } from "../db/schema";
import { deleteStored } from "./attachments";
import { expireConversations } from "../conversations/privacy";
import { expireDeliveries } from "../db/webhook-privacy";

const TENANTS_PER_PASS = 100;
const ROWS_PER_TENANT = 500;
const DAY_MS = 86_400_000;
const EXPIRED_PER_PASS = 5000;
/** Thirteen months: a year of history plus the month it is reviewed in. */
export const AUDIT_RETENTION_DAYS = 400;
const CHUNK_RECORD_DAYS = 30;

export async function applyRetention(db: Db, bucket: R2Bucket, now: Date) {
  let redacted = 0;
  let redactedMessages = 0;
  let redactedDeliveries = 0;
  for (const t of await tenantsWithRetention(db, TENANTS_PER_PASS)) {
    const days = retentionDays(t.settings);
    if (!days) continue;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    const { ids, storageKeys } = await redactBefore(db, t.id, cutoff, ROWS_PER_TENANT);
    await runBatch(db, chunk(ids, 90).map((part) => redactEvents(db, t.id, part)));
    await deleteStored(bucket, storageKeys);
    redacted += ids.length;
    redactedMessages += await expireConversations(db, bucket, t.id, cutoff, ROWS_PER_TENANT);
    redactedDeliveries += await expireDeliveries(db, t.id, cutoff, ROWS_PER_TENANT, now);
  }
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const expiredKeys = await deleteCreatedBefore(db, idempotencyKey, idempotencyKey.createdAt, ago(IDEMPOTENCY_TTL_MS), EXPIRED_PER_PASS);
  const expiredChunks = await deleteCreatedBefore(db, campaignChunk, campaignChunk.createdAt, ago(CHUNK_RECORD_DAYS * DAY_MS), EXPIRED_PER_PASS);
  const expiredAudit = await deleteCreatedBefore(db, auditLog, auditLog.createdAt, ago(AUDIT_RETENTION_DAYS * DAY_MS), EXPIRED_PER_PASS);
  return { redacted, redactedMessages, redactedDeliveries, expiredKeys, expiredChunks, expiredAudit };
}
