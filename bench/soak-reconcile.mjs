/**
 * The soak's books, closed exactly (pure: data in, figures out). Three ledgers are compared:
 *
 * - what the API accepted (ids from 201 answers, bench/soak-load.mjs);
 * - what Herald recorded (each communication's row, and the provider ids on its `attempt`
 *   timeline entries);
 * - what the providers took as sent (every acceptance at the fault mocks, with the provider id
 *   each was given, bench/fault-provider.mjs).
 *
 * A message is *lost* when it was accepted and no provider ever took it, yet Herald does not say it
 * failed (or it has no row at all). It is *double-sent* when providers took it more than once;
 * each copy Herald never recorded is put down to a cause, in this order: the provider hung past
 * the timeout and then accepted (`hang-then-accept`), the call was cut off by the restart
 * (`restart`), a normal answer came after Herald's timeout under load (`slow answer`), or
 * nothing known (`unexplained`, a bug to report). Two copies that Herald both recorded are
 * `recorded twice`, also a bug.
 */

export const TERMINAL = ["sent", "delivered", "opened", "clicked", "failed", "bounced", "suppressed", "cancelled"];
const REACHED = ["sent", "delivered", "opened", "clicked", "bounced"];

/**
 * @param {{
 *   accepted: { ref: string, id: string, tenant: string, channel: string }[],
 *   rows: { id: string, tenant_id: string, status: string, provider_message_id: string | null, retry_count: number, next_retry_at: number | null, error_message: string | null }[],
 *   attempts: { communication_id: string, provider_config_id: string | null, error: string | null, detail: string | null }[],
 *   mocks: { name: string, accepted: { id: string | null, ref: string | null, mode: string, providerMessageId: string, receivedAt: number, epoch: number }[] }[],
 *   restarts: { epoch: number, at: number }[],
 *   inFlightMs: number,
 * }} books `restarts`: when each kill happened and the epoch that began with it; a call received
 * within `inFlightMs` before a kill counts as one the kill may have cut off.
 */
export function reconcile({ accepted, rows, attempts, mocks, restarts, inFlightMs }) {
  const rowById = new Map(rows.map((r) => [r.id, r]));
  const acceptedIds = new Set(accepted.map((a) => a.id));
  // Provider ids Herald wrote down, per communication: on its timeline and on its row.
  const recorded = new Map();
  const timeouts = new Map();
  for (const a of attempts) {
    const detail = a.detail ? JSON.parse(a.detail) : {};
    if (detail.providerMessageId) push(recorded, a.communication_id, detail.providerMessageId);
    if (a.error && /did not answer in time/.test(a.error)) push(timeouts, a.communication_id, a.provider_config_id);
  }
  const copies = new Map();
  let unidentified = 0;
  for (const mock of mocks) {
    for (const c of mock.accepted) {
      if (!c.id) unidentified++;
      else push(copies, c.id, { ...c, mock: mock.name });
    }
  }
  const cutOff = (c) => restarts.some((r) => c.epoch === r.epoch - 1 && c.receivedAt >= r.at - inFlightMs);

  const terminal = {};
  const notTerminal = [];
  const lost = [];
  const failedYetSent = [];
  const mismatched = [];
  const doubleSent = [];
  for (const a of accepted) {
    const row = rowById.get(a.id);
    const taken = copies.get(a.id) ?? [];
    if (!row) {
      lost.push({ ...a, status: "(no row)", why: "accepted, but Herald has no row for it" });
      continue;
    }
    if (!TERMINAL.includes(row.status)) {
      notTerminal.push({ ...a, status: row.status, retryCount: row.retry_count, nextRetryAt: row.next_retry_at, error: row.error_message });
    } else terminal[row.status] = (terminal[row.status] ?? 0) + 1;
    if (taken.length === 0 && row.status !== "failed" && TERMINAL.includes(row.status)) {
      lost.push({ ...a, status: row.status, why: `Herald says ${row.status} (provider id ${row.provider_message_id}), no provider took it` });
    }
    if (row.status === "failed" && taken.length > 0) failedYetSent.push({ ...a, copies: taken.length, modes: taken.map((c) => c.mode), error: row.error_message });
    const known = new Set(recorded.get(a.id) ?? []);
    if (REACHED.includes(row.status) && row.provider_message_id && !taken.some((c) => c.providerMessageId === row.provider_message_id)) {
      mismatched.push({ ...a, status: row.status, providerMessageId: row.provider_message_id });
    }
    if (taken.length < 2) continue;
    const knownCopies = taken.filter((c) => known.has(c.providerMessageId));
    const causes = taken
      .filter((c) => !known.has(c.providerMessageId))
      .map((c) => {
        if (c.mode === "hang-then-accept") return "hang-then-accept";
        if (cutOff(c)) return "restart";
        if ((timeouts.get(a.id) ?? []).length) return "slow answer";
        return "unexplained";
      });
    if (knownCopies.length > 1) causes.push(...Array(knownCopies.length - 1).fill("recorded twice"));
    doubleSent.push({ ...a, copies: taken.length, causes, timeline: taken.map((c) => `${c.mock}:${c.mode}@${new Date(c.receivedAt).toISOString()}(epoch ${c.epoch})`) });
  }

  const byCause = {};
  for (const d of doubleSent) {
    const cause = [...new Set(d.causes)].sort().join(" + ") || "unexplained";
    byCause[cause] = (byCause[cause] ?? 0) + 1;
  }
  const extraCopies = doubleSent.reduce((n, d) => n + d.copies - 1, 0);
  const strays = rows.filter((r) => !acceptedIds.has(r.id));
  return {
    accepted: accepted.length,
    stored: rows.length,
    /** Rows no 201 ever named: stored by a request whose answer was lost and never replayed. */
    strays: strays.map((r) => ({ id: r.id, status: r.status })),
    terminal,
    notTerminal,
    lost,
    failedYetSent,
    mismatched,
    doubleSent,
    byCause,
    extraCopies,
    providerAcceptances: mocks.reduce((n, m) => n + m.accepted.length, 0),
    unidentified,
  };
}

function push(map, key, value) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
