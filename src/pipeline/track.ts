/**
 * Applying a verified batch of provider events: every event's statements go to D1 in as few
 * batches as the batch size allows (never one round trip per event), then the transitions that
 * really happened update the stats and are announced to the tenant's webhooks.
 */
import type { ProviderEvent } from "../channels/types";
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { eventStatements, type AppliedMove } from "../db/tracking";
import { resetSilence } from "../db/provider-health";
import { chunk } from "../lib/chunk";
import type { CommunicationStatus } from "../domain";
import type { EventMessage } from "./event-message";
import { announce, statsStatements, type Transition } from "./transitions";

/** Statements per D1 batch: SendGrid posts hundreds of events at once. */
const STATEMENTS_PER_BATCH = 300;

/** Where events come from: a provider config, or Herald's own tracking (no config). */
export type EventSource = { tenantId: string; configId: string | null; provider: string };

export async function applyProviderEvents(
  db: Db,
  d1: D1Database,
  eventQueue: Queue<EventMessage>,
  source: EventSource,
  events: ProviderEvent[],
  now: Date,
  alongside: D1PreparedStatement[] = [],
): Promise<{ moved: number }> {
  const statements = [...events.flatMap((e) => eventStatements(d1, source.tenantId, source.configId, source.provider, e, now)), ...alongside];
  // A provider that reports delivery is not silent: its breaker closes.
  const reported = events.some((e) => e.status === "delivered" || e.status === "opened" || e.status === "clicked");
  if (source.configId && reported) statements.push(resetSilence(d1, source.tenantId, source.configId));
  const moves: Transition[] = [];
  for (const part of chunk(statements, STATEMENTS_PER_BATCH)) {
    const results = await d1.batch<AppliedMove>(part);
    // Only the guarded status UPDATEs return rows, and only when the move happened.
    for (const row of results.flatMap((r) => r.results ?? [])) {
      moves.push({
        tenantId: row.tenant_id,
        communicationId: row.id,
        channel: row.channel,
        type: row.type,
        createdAt: new Date(row.created_at),
        status: row.status as CommunicationStatus,
        at: now,
      });
    }
  }
  if (moves.length) {
    await runBatch(db, statsStatements(db, moves));
    await announce(eventQueue, moves);
  }
  return { moved: moves.length };
}
