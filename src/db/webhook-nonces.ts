/**
 * The webhook nonce store: a provider signature's nonce is claimed when its request is applied,
 * and a second request with the same nonce, within the signature's replay window, is a replay.
 * The claim is two statements meant to ride in the batch that applies the request's events: the
 * INSERT fails on a live nonce (UNIQUE), so the whole batch, a transaction, rolls back and a
 * replay changes nothing; a request that fails for another reason leaves no claim behind, and the
 * provider's retry goes through.
 */
import { sql } from "drizzle-orm";
import type { ReplayKey } from "../channels/types";
import type { Db } from "./client";
import { webhookNonce } from "./schema";

/** Claims `key` for `scope` (a provider config id); fails the batch when it is already held. */
export const claimNonce = (d1: D1Database, scope: string, key: ReplayKey, now: Date): D1PreparedStatement[] => [
  // An expired row no longer counts, whether or not the cron has deleted it yet.
  d1.prepare("DELETE FROM webhook_nonce WHERE scope = ?1 AND nonce = ?2 AND expires_at <= ?3").bind(scope, key.nonce, now.getTime()),
  d1.prepare("INSERT INTO webhook_nonce (scope, nonce, expires_at) VALUES (?1, ?2, ?3)").bind(scope, key.nonce, key.expiresAt.getTime()),
];

/** Whether a live claim holds this nonce: asked only after a batch carrying a claim failed. */
export async function nonceHeld(d1: D1Database, scope: string, nonce: string, now: Date): Promise<boolean> {
  const row = await d1.prepare("SELECT 1 AS held FROM webhook_nonce WHERE scope = ?1 AND nonce = ?2 AND expires_at > ?3").bind(scope, nonce, now.getTime()).first();
  return row !== null;
}

/** Gives a claim back when the work it guarded failed after it was committed on its own. */
export const releaseNonce = (d1: D1Database, scope: string, key: ReplayKey) =>
  d1.prepare("DELETE FROM webhook_nonce WHERE scope = ?1 AND nonce = ?2 AND expires_at = ?3").bind(scope, key.nonce, key.expiresAt.getTime()).run();

/** Deletes up to `limit` expired nonces (the cron's retention pass). */
export async function deleteExpiredNonces(db: Db, now: Date, limit: number) {
  const res = await db.run(
    sql`DELETE FROM ${webhookNonce} WHERE rowid IN (SELECT rowid FROM ${webhookNonce} WHERE ${webhookNonce.expiresAt} <= ${now.getTime()} LIMIT ${limit})`,
  );
  return res.meta.changes ?? 0;
}
