/**
 * Digests: a rule with `digest: { windowSeconds }` collects its events per recipient for the
 * window that the first one opens, then sends one message whose template sees every event's data
 * as `items` and their number as `itemCount` ("5 items are low on stock"), plus the latest event's
 * data at the top level. The flush is a cron pass, bounded and safe to overlap.
 */
import { appendToDigest, claimDigest, findClosedDigests, markFlushed, type DigestRow } from "../db/digests";
import { getTriggerRule } from "../db/business-events";
import { runBatch } from "../db/client";
import { uuidv7 } from "../lib/ids";
import { forTenant, STALE_CLAIM_MS, type AutomationDeps } from "./deps";
import { dispatch } from "./dispatch";
import { recipientKey, type EventRecipient } from "./event";
import { variablesFor } from "./requests";
import { failureSummary } from "./reminders";
import type { Db } from "../db/client";

export const DIGEST_BATCH = 100;

export function digestStatement(
  db: Db,
  e: { tenantId: string; ruleId: string; recipient: EventRecipient; entityType: string | null; entityId: string | null; data: Record<string, unknown> },
  windowSeconds: number,
  receivedAt: Date,
) {
  const row: DigestRow = {
    id: uuidv7(receivedAt.getTime()),
    tenantId: e.tenantId,
    triggerRuleId: e.ruleId,
    recipientKey: recipientKey(e.recipient),
    recipient: e.recipient,
    entityType: e.entityType,
    entityId: e.entityId,
    items: [e.data],
    itemCount: 1,
    status: "open",
    closesAt: new Date(receivedAt.getTime() + windowSeconds * 1000),
    claimedAt: null,
    flushedAt: null,
    error: null,
    createdAt: receivedAt,
  };
  return appendToDigest(db, row);
}

async function flush(d: AutomationDeps, claimed: DigestRow, now: Date) {
  const rule = await getTriggerRule(d.db, claimed.tenantId, claimed.triggerRuleId);
  // The rule was deleted or turned into something else while the window was open: nothing to send.
  if (!rule || rule.action.kind !== "send" || !rule.enabled) {
    await runBatch(d.db, [markFlushed(d.db, claimed, "the rule was deleted, disabled or changed while the window was open", now)]);
    return { rows: [], errors: [] };
  }
  const latest = claimed.items[claimed.items.length - 1] ?? {};
  return dispatch(
    forTenant(d, claimed.tenantId, now),
    [
      {
        label: `digest ${claimed.id}`,
        createdBy: `system:trigger:${rule.id}`,
        recipient: claimed.recipient,
        step: rule.action,
        base: {
          templateVariables: { ...variablesFor(claimed.recipient, latest), items: claimed.items, itemCount: claimed.itemCount },
          ...(claimed.entityType && claimed.entityId && claimed.itemCount === 1 ? { entityType: claimed.entityType, entityId: claimed.entityId } : {}),
          metadata: { digestId: claimed.id, triggerRuleId: rule.id, itemCount: claimed.itemCount },
        },
      },
    ],
    (_rows, errors) => [markFlushed(d.db, claimed, failureSummary(errors), now)],
  );
}

/** The cron pass: sends up to `limit` digests whose window has closed. */
export async function flushDigests(d: AutomationDeps, now: Date, limit = DIGEST_BATCH) {
  const staleBefore = new Date(now.getTime() - STALE_CLAIM_MS);
  const closed = await findClosedDigests(d.db, now, staleBefore, limit);
  let communications = 0;
  for (const c of closed) {
    const claimed = await claimDigest(d.db, c, now, staleBefore);
    if (!claimed) continue;
    const result = await flush(d, claimed, now);
    communications += result.rows.length;
    if (result.errors.length) console.error(JSON.stringify({ msg: "digest could not be sent", digestId: claimed.id, errors: result.errors }));
  }
  return { closed: closed.length, communications };
}
