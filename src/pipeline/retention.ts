/**
 * The retention cron pass (issue 14): for each tenant with a retention policy, redact what has
 * outlived it, stored attachment objects included. Bounded per pass, idempotent (redacted rows
 * are skipped), and never touches a communication still on its way out. It also deletes expired
 * Idempotency-Key records.
 */
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { redactEvents } from "../db/recipients";
import { redactBefore, retentionDays, tenantsWithRetention } from "../db/retention";
import { chunk } from "../lib/chunk";
import { expireIdempotency, IDEMPOTENCY_TTL_MS } from "../db/communications";
import { deleteStored } from "./attachments";

const TENANTS_PER_PASS = 100;
const ROWS_PER_TENANT = 500;
const DAY_MS = 86_400_000;
const EXPIRED_KEYS_PER_PASS = 5000;

export async function applyRetention(db: Db, bucket: R2Bucket, now: Date) {
  let redacted = 0;
  for (const t of await tenantsWithRetention(db, TENANTS_PER_PASS)) {
    const days = retentionDays(t.settings);
    if (!days) continue;
    const { ids, storageKeys } = await redactBefore(db, t.id, new Date(now.getTime() - days * DAY_MS), ROWS_PER_TENANT);
    await runBatch(db, chunk(ids, 90).map((part) => redactEvents(db, t.id, part)));
    await deleteStored(bucket, storageKeys);
    redacted += ids.length;
  }
  const expiredKeys = await expireIdempotency(db, new Date(now.getTime() - IDEMPOTENCY_TTL_MS), EXPIRED_KEYS_PER_PASS);
  return { redacted, expiredKeys };
}
