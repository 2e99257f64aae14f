/**
 * Monthly quotas at the moment of accepting sends: the request's new communications are counted
 * against the tenant's quotas before they are stored (all or nothing: a request that would cross
 * a quota is refused whole), and the count is given back if storing them fails. Idempotent
 * replays are not counted twice (src/api/idempotency.ts). Communications that will never be sent
 * (suppressed when accepted) do not count.
 */
import type { CommunicationRow } from "../db/communications";
import type { Channel } from "../domain";
import { AppError } from "../lib/errors";
import { tenantLimiter, type LimiterNamespace } from "./client";
import type { QuotaCharge } from "./tenant-limiter";

export type QuotaRequest = Partial<Record<Channel, number>>;

/** What the rows cost against the quotas: one per queued or scheduled communication, per channel. */
export const quotaRequest = (rows: CommunicationRow[]) => {
  const n: QuotaRequest = {};
  for (const row of rows) if (row.status === "queued" || row.status === "scheduled") n[row.channel] = (n[row.channel] ?? 0) + 1;
  return n;
};

/** The 429 for a refused charge, naming the channel and when it resets. */
export function quotaExceeded(charge: Extract<QuotaCharge, { ok: false }>) {
  const left = Math.max(0, charge.quota - charge.used);
  const retryAfter = Math.max(1, Math.ceil((Date.parse(charge.resetsAt) - Date.now()) / 1000));
  return new AppError(
    "quota_exceeded",
    `monthly ${charge.channel} quota exceeded: ${charge.quota} per month, ${charge.used} used in ${charge.period}, ` +
      `${left} left, this request needs ${charge.requested}; it resets at ${charge.resetsAt}`,
    undefined,
    { "retry-after": String(retryAfter) },
  );
}

/** Runs `store` after a successful charge; gives the count back if it throws. */
export async function refundingOnFailure<T>(ns: LimiterNamespace, tenantId: string, period: string, requested: QuotaRequest, store: () => Promise<T>): Promise<T> {
  try {
    return await store();
  } catch (error) {
    // The store's error is the one to report; a failed refund only overcounts this month.
    await tenantLimiter(ns, tenantId)
      .refundQuota(period, requested)
      .catch((e) => console.error(JSON.stringify({ msg: "quota refund failed", tenantId, error: String(e) })));
    throw error;
  }
}

/** Runs `store` if the rows fit the tenant's quotas; throws `quota_exceeded` (429) if not. */
export async function withinQuota<T>(ns: LimiterNamespace, tenantId: string, rows: CommunicationRow[], store: () => Promise<T>): Promise<T> {
  const requested = quotaRequest(rows);
  if (Object.keys(requested).length === 0) return store();
  const charge = await tenantLimiter(ns, tenantId).chargeQuota(requested);
  if (!charge.ok) throw quotaExceeded(charge);
  return refundingOnFailure(ns, tenantId, charge.period, requested, store);
}
