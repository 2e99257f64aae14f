/**
 * The end-to-end half: after a round of sends, poll the tenant's counts through the API until
 * every stored communication is `delivered`, then read each one's created → delivered time from
 * D1 (the seed's "queue processing" time). Polling stops early when nothing moves for a while, so
 * a stuck consumer is reported rather than waited on.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { countCommunications } from "./api.mjs";

const POLL_MS = 200;
const STALL_MS = 15_000;

/**
 * @returns {Promise<{ stored: number, deliveredAtStart: number, delivered: number, seconds: number,
 *                     complete: boolean, why?: string }>}
 */
export async function waitForDelivery(url, apiKey, deadline) {
  const started = performance.now();
  const read = async () => {
    const [stored, delivered] = await Promise.all([countCommunications(url, apiKey), countCommunications(url, apiKey, "delivered")]);
    return { stored, delivered };
  };
  const first = await read();
  let last = first;
  let lastMove = started;
  // Not `<`: the two counts are separate reads, so only equality ends the wait.
  while (last.delivered !== last.stored) {
    const now = performance.now();
    if (Date.now() > deadline) return result(first, last, started, "time budget exhausted");
    if (now - lastMove > STALL_MS) return result(first, last, started, `no progress for ${STALL_MS / 1000} s`);
    await sleep(POLL_MS);
    const next = await read();
    if (next.delivered !== last.delivered) lastMove = performance.now();
    last = next;
  }
  return result(first, last, started);
}

const result = (first, last, started, why) => ({
  stored: last.stored,
  deliveredAtStart: first.delivered,
  delivered: last.delivered,
  seconds: (performance.now() - started) / 1000,
  complete: last.delivered === last.stored,
  why,
});

/** Created → delivered per communication (ms), and the span from first accept to last delivery. */
export async function queueTimes(db, tenantId) {
  const { results } = await db
    .prepare("SELECT created_at AS c, delivered_at AS d FROM communication WHERE tenant_id = ? AND delivered_at IS NOT NULL")
    .bind(tenantId)
    .all();
  if (results.length === 0) return undefined;
  const waits = results.map((r) => r.d - r.c).sort((a, b) => a - b);
  const at = (q) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))];
  return {
    avgMs: waits.reduce((s, w) => s + w, 0) / waits.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: waits.at(-1),
    spanMs: results.reduce((m, r) => Math.max(m, r.d), 0) - results.reduce((m, r) => Math.min(m, r.c), Infinity),
  };
}

/** Counts by status, for explaining a shortfall. */
export async function statusBreakdown(db, tenantId) {
  const { results } = await db
    .prepare("SELECT status, count(*) AS n FROM communication WHERE tenant_id = ? GROUP BY status ORDER BY status")
    .bind(tenantId)
    .all();
  return Object.fromEntries(results.map((r) => [r.status, r.n]));
}
