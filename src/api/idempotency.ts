/**
 * `Idempotency-Key`: the first response to a key is stored in the same D1 transaction as the
 * communications it created, so a retried request either replays that response (same body) or
 * is refused (different body) — it never sends twice, even when two copies race: the key is the
 * record's primary key, and the transaction that loses rolls back whole. Keys expire
 * after IDEMPOTENCY_TTL_MS, as Stripe's do: after that the same key starts a new request, and the
 * cron pass deletes the records (src/pipeline/retention.ts).
 */
import type { Context } from "hono";
import type { BatchItem } from "drizzle-orm/batch";
import type { AppEnv } from "./context";
import { isUniqueViolation } from "../db/client";
import { deleteStaleIdempotency, getIdempotency, IDEMPOTENCY_TTL_MS, insertIdempotency } from "../db/communications";
import { sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";

export type Reply = { status: 200 | 201 | 202; body: unknown };
/** Gives the statements that record the reply; run them with the writes they describe. */
export type RecordReply = (reply: Reply) => BatchItem<"sqlite">[];

/**
 * `writeFirst`: skip the look-up before running and let the record's INSERT find an earlier
 * request (a live record makes it fail, and the whole transaction with it; a stale one is
 * deleted by a statement just before it). That saves a round trip on every first attempt, the
 * common case. Only for a route whose writes fit one transaction: storeAndEnqueue commits more
 * than 250 rows in several, and an earlier chunk would stay committed when the last one fails.
 */
export async function idempotent(
  c: Context<AppEnv>,
  raw: string,
  run: (record: RecordReply) => Promise<Reply>,
  options: { writeFirst?: boolean } = {},
): Promise<Response> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return send(c, await run(() => []));
  if (key.length === 0 || key.length > 255) {
    throw new AppError("validation_failed", "invalid Idempotency-Key", [{ field: "Idempotency-Key", message: "must be 1 to 255 characters" }]);
  }
  const { db, tenantId } = c.var;
  const requestHash = await sha256Hex(`${c.req.method} ${c.req.path}\n${raw}`);
  const expiredBefore = new Date(Date.now() - IDEMPOTENCY_TTL_MS);

  const replay = async () => {
    const stored = await getIdempotency(db, tenantId, key);
    if (!stored) return undefined;
    if (stored.createdAt < expiredBefore) {
      // Expired but not yet swept: free the key so this request's record can take its place.
      if (!options.writeFirst) await deleteStaleIdempotency(db, tenantId, key, expiredBefore);
      return undefined;
    }
    if (stored.requestHash !== requestHash) {
      throw new AppError("idempotency_mismatch", "this Idempotency-Key was used with a different request body", [
        { field: "Idempotency-Key", message: "reuse a key only to retry the identical request" },
      ]);
    }
    c.header("idempotent-replayed", "true");
    return send(c, { status: stored.responseStatus as Reply["status"], body: JSON.parse(stored.responseBody) });
  };

  if (!options.writeFirst) {
    const earlier = await replay();
    if (earlier) return earlier;
  }
  try {
    const reply = await run((r) => [
      ...(options.writeFirst ? [deleteStaleIdempotency(db, tenantId, key, expiredBefore)] : []),
      insertIdempotency(db, {
        tenantId,
        key,
        requestHash,
        responseStatus: r.status,
        responseBody: JSON.stringify(r.body),
        createdAt: new Date(),
      }),
    ]);
    return send(c, reply);
  } catch (error) {
    // A concurrent (or, write-first, any earlier) copy committed first; ours rolled back entirely.
    // Write-first, a retry may also be refused where the first attempt was not (its template
    // since deactivated, the quota since used up, partly by the first attempt itself): the
    // stored reply answers it. A rate limit still answers 429, as it would have up front.
    const refusedRetry = options.writeFirst && error instanceof AppError && error.code !== "rate_limited";
    if (isUniqueViolation(error) || refusedRetry) {
      const raced = await replay();
      if (raced) return raced;
    }
    throw error;
  }
}

const send = (c: Context<AppEnv>, reply: Reply) => c.json(reply.body as object, reply.status);
