/**
 * Applying a verified batch of receipts with a fixed number of D1 round trips, however many
 * events: one read for every message they name, a pure decision per event (receipts.ts), one
 * batch for every status move, timeline entry and suppression, and one for the stats of the
 * moves that happened, which are then announced to the tenant's webhooks. A move whose message
 * changed between the read and the write (a send being recorded, a failover claim) is read and
 * decided again, at most twice.
 */
import type { ProviderEvent } from "../channels/types";
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { resetSilence } from "../db/provider-health";
import { loadReceiptTargets, moveStatement, suppressionStatement, timelineStatement, type Reporter } from "../db/receipts";
import type { Channel } from "../domain";
import { chunk } from "../lib/chunk";
import type { EventMessage } from "./event-message";
import { planReceipts, type MessageMove, type ReceiptSource } from "./receipts";
import { announce, statsStatements, transitionOf, type Transition } from "./transitions";

/** Statements per D1 batch: SendGrid posts hundreds of events at once. */
const STATEMENTS_PER_BATCH = 300;
/** Reads after the first when a guarded move lost a race; a third loss leaves the receipt on the timeline only. */
const REREADS = 2;

/** Where events come from: a provider config (and its channel), or Herald's own tracking (no config). */
export type EventSource = { tenantId: string; provider: string } & ({ configId: string; channel: Channel } | { configId: null });
/** What a webhook's events did: `applied` were about messages this source was handed, `moved` counts status changes. */
export type ReceiptOutcome = { received: number; applied: number; ignored: number; moved: number };

export async function applyProviderEvents(
  db: Db,
  d1: D1Database,
  eventQueue: Queue<EventMessage>,
  source: EventSource,
  events: ProviderEvent[],
  now: Date,
  alongside: D1PreparedStatement[] = [],
): Promise<ReceiptOutcome> {
  const by: Reporter = { tenantId: source.tenantId, configId: source.configId, provider: source.provider };
  const from: ReceiptSource = source.configId ? { configId: source.configId, channel: source.channel } : { configId: null, channel: null };
  const load = (list: ProviderEvent[]) =>
    loadReceiptTargets(
      d1,
      source.tenantId,
      source.configId,
      unique(list.map((e) => e.communicationId)),
      unique(list.filter((e) => !e.communicationId).map((e) => e.providerMessageId)),
    );

  const plan = planReceipts(from, events, await load(events));
  const records: D1PreparedStatement[] = [];
  for (const entry of plan.entries) {
    if (!entry.message) continue;
    records.push(timelineStatement(d1, by, { ...entry, message: entry.message }));
    if (entry.verdict.apply && entry.event.suppress) records.push(suppressionStatement(d1, by, entry.message.id, entry.event.suppress, now));
  }
  const applied = plan.entries.filter((e) => e.verdict.apply);
  // A provider that reports delivery of its own messages is not silent: its breaker closes.
  if (source.configId && applied.some((e) => e.event.status === "delivered" || e.event.status === "opened" || e.event.status === "clicked")) {
    records.push(resetSilence(d1, source.tenantId, source.configId));
  }
  records.push(...alongside);

  const transitions: Transition[] = [];
  let moves = plan.moves;
  for (let round = 0; ; round++) {
    const missed = await writeMoves(d1, by, moves, round === 0 ? records : [], now);
    for (const move of moves.filter((m) => !missed.includes(m))) {
      for (const step of move.steps) transitions.push(transitionOf(move.message, step.status, now));
    }
    if (missed.length === 0 || round === REREADS) break;
    // Decide again from what is stored now, for the same events, matched to the same messages.
    const again = plan.entries.filter((e) => e.message && missed.some((m) => m.message.id === e.message!.id)).map((e) => ({ ...e.event, communicationId: e.message!.id }));
    moves = planReceipts(from, again, await load(again)).moves;
  }
  if (transitions.length) {
    await runBatch(db, statsStatements(db, transitions));
    await announce(eventQueue, transitions);
  }
  return { received: events.length, applied: applied.length, ignored: events.length - applied.length, moved: transitions.length };
}

/** Runs the moves (first, so their results line up) and the other statements; returns the moves that did not happen. */
async function writeMoves(d1: D1Database, by: Reporter, moves: MessageMove[], others: D1PreparedStatement[], now: Date): Promise<MessageMove[]> {
  const statements = [...moves.map((m) => moveStatement(d1, by, m, now)), ...others];
  const results: D1Result[] = [];
  for (const part of chunk(statements, STATEMENTS_PER_BATCH)) results.push(...(await d1.batch(part)));
  return moves.filter((_, i) => (results[i]?.results ?? []).length === 0);
}

const unique = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => !!v))];
