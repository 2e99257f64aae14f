/**
 * The inbox object's outbox for `inbox.action` webhooks. A pressed event button is stored in the
 * object's SQLite in the same synchronous turn as the action itself (one implicit transaction), and
 * only then offered to D1; a row leaves the outbox once D1 has accepted its delivery rows and they
 * are enqueued, and the object's alarm retries what is left, with back-off, until then.
 *
 * Why an outbox and not "D1 first, then record the action": D1 first would make a D1 outage fail
 * the press itself (a WebSocket `act` has no answer to carry the error, so the press would vanish),
 * and two devices pressing different buttons while the D1 write is in flight would both write a
 * webhook for an item that records one action. Here the action stands at once, and the webhook
 * follows as soon as D1 takes it; the delivery rows' ids are deterministic, so a retry of a try
 * that half-landed adds nothing (src/inbox/action-event.ts).
 */
import type { Env } from "../env";
import { emitInboxAction, type TakenAction } from "../inbox/action-event";
import type { OutboxRow } from "./inbox-schema";

/** Seconds before each retry; the last repeats for as long as D1 refuses. */
export const OUTBOX_RETRY_SECONDS = [10, 60, 300, 1800] as const;

const retryAfter = (attempts: number) => OUTBOX_RETRY_SECONDS[Math.min(attempts, OUTBOX_RETRY_SECONDS.length - 1)]! * 1000;

/**
 * Keeps a taken action until its webhook is written. Its first retry is already due in
 * OUTBOX_RETRY_SECONDS[0]: an object evicted during the first try still sends it from the alarm.
 */
export function keepAction(sql: SqlStorage, t: TakenAction) {
  sql.exec(
    "INSERT OR IGNORE INTO action_outbox (item_id, action, label, event, data, acted_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    t.itemId,
    t.index,
    t.label,
    t.event,
    t.data === undefined || t.data === null ? null : JSON.stringify(t.data),
    t.at.getTime(),
    t.at.getTime() + retryAfter(0),
  );
}

/** When the outbox next needs the alarm (epoch ms), or null when it is empty. */
export const outboxDue = (sql: SqlStorage) => sql.exec<{ at: number | null }>("SELECT min(due_at) AS at FROM action_outbox").one().at;

/**
 * Offers these outbox rows (one item's, from a press; or every row due, from the alarm) to D1.
 * Never throws: a row D1 refuses stays, due again after its back-off.
 */
export async function flushOutbox(sql: SqlStorage, env: Pick<Env, "DB" | "EVENT_QUEUE">, tenantId: string, which: { itemId: string } | { dueBy: number }) {
  const rows =
    "itemId" in which
      ? sql.exec<OutboxRow>("SELECT * FROM action_outbox WHERE item_id = ?", which.itemId).toArray()
      : sql.exec<OutboxRow>("SELECT * FROM action_outbox WHERE due_at <= ?", which.dueBy).toArray();
  for (const r of rows) {
    try {
      await emitInboxAction(env, tenantId, { itemId: r.item_id, index: r.action, label: r.label, event: r.event, data: r.data === null ? null : JSON.parse(r.data), at: new Date(r.acted_at) });
      sql.exec("DELETE FROM action_outbox WHERE item_id = ?", r.item_id);
    } catch (error) {
      sql.exec("UPDATE action_outbox SET attempts = attempts + 1, due_at = ? WHERE item_id = ?", Date.now() + retryAfter(r.attempts), r.item_id);
      console.log(JSON.stringify({ msg: "inbox.action webhook not written yet; the alarm retries", itemId: r.item_id, attempts: r.attempts + 1, error: String(error) }));
    }
  }
}
