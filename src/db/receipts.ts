/**
 * The SQL behind applying a webhook's receipts as a batch: one read for every message the events
 * name, then plain statements that run together in one D1 batch. Each status move is guarded by
 * the status that was read (a concurrent writer's change is never overwritten; the caller reads
 * again and decides again), and RETURNING says whether it happened.
 */
import type { ProviderEvent } from "../channels/types";
import type { Channel, CommunicationStatus } from "../domain";
import { uuidv7 } from "../lib/ids";
import { TIMESTAMP_COLUMN } from "../pipeline/status";
import { IGNORE_REASONS, type MessageMove, type ReceiptEntry, type StoredMessage } from "../pipeline/receipts";

type TargetRow = {
  id: string;
  tenant_id: string;
  channel: Channel;
  type: string;
  created_at: number;
  status: CommunicationStatus;
  provider_config_id: string | null;
  provider_message_id: string | null;
  handed_to: string | null;
};

/**
 * Every message the events name, by Herald's id or by the provider's id within `configId`, each
 * with the configs that accepted it (successful attempts on its timeline). The id lists travel
 * as one JSON parameter each: D1 binds at most 100 parameters, SendGrid posts more events.
 */
export async function loadReceiptTargets(d1: D1Database, tenantId: string, configId: string | null, ids: string[], providerIds: string[]): Promise<StoredMessage[]> {
  if (ids.length === 0 && providerIds.length === 0) return [];
  const { results } = await d1
    .prepare(
      "SELECT c.id, c.tenant_id, c.channel, c.type, c.created_at, c.status, c.provider_config_id, c.provider_message_id, " +
        "(SELECT group_concat(DISTINCT e.provider_config_id) FROM communication_event e WHERE e.communication_id = c.id AND e.tenant_id = c.tenant_id " +
        "AND e.kind = 'attempt' AND e.error IS NULL AND e.provider_config_id IS NOT NULL) AS handed_to " +
        // One list of ids, looked up by primary key and by the provider-id index; the unary `+`
        // keeps SQLite from scanning the whole tenant through its tenant_id index instead.
        "FROM communication c WHERE c.id IN (SELECT value FROM json_each(?2) UNION " +
        "SELECT id FROM communication WHERE provider_message_id IN (SELECT value FROM json_each(?4)) AND provider_config_id = ?3) AND +c.tenant_id = ?1",
    )
    .bind(tenantId, JSON.stringify(ids), configId, JSON.stringify(configId ? providerIds : []))
    .all<TargetRow>();
  return results.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    channel: r.channel,
    type: r.type,
    createdAt: new Date(r.created_at),
    status: r.status,
    providerConfigId: r.provider_config_id,
    providerMessageId: r.provider_message_id,
    handedTo: r.handed_to ? r.handed_to.split(",") : [],
  }));
}

/** Who reported, as the statements record it. */
export type Reporter = { tenantId: string; configId: string | null; provider: string };

/**
 * One UPDATE per message, however many steps it takes in this webhook: each step's timestamp is
 * set once, and the move happens only if the status is still the one the plan started from.
 */
export function moveStatement(d1: D1Database, by: Reporter, move: MessageMove, now: Date): D1PreparedStatement {
  const last = move.steps.at(-1)!;
  const sets = ["status = ?"];
  const values: unknown[] = [last.status];
  for (const step of move.steps) {
    const column = TIMESTAMP_COLUMN[step.status];
    sets.push(`${column} = COALESCE(${column}, ?)`);
    values.push(step.event.occurredAt.getTime());
  }
  if (last.status === "bounced" || last.status === "failed") {
    sets.push("error_message = ?");
    values.push(last.event.error ?? `${by.provider}: ${last.event.name}`);
  }
  // After a silent failover, whichever provider's receipt comes first is the one that delivered.
  if (by.configId && move.steps.some((s) => s.status === "delivered")) {
    sets.push("provider_config_id = ?", "provider = ?");
    values.push(by.configId, by.provider);
  }
  sets.push("updated_at = ?");
  values.push(now.getTime());
  return d1
    .prepare(`UPDATE communication SET ${sets.join(", ")} WHERE tenant_id = ? AND id = ? AND status = ? RETURNING id`)
    .bind(...values, by.tenantId, move.message.id, move.from);
}

/**
 * The event on the message's timeline, once (providers retry): as a `provider_event`, or as an
 * `ignored_receipt` naming why. The SELECT keeps a message erased meanwhile from failing the batch.
 */
export function timelineStatement(d1: D1Database, by: Reporter, entry: ReceiptEntry & { message: StoredMessage }): D1PreparedStatement {
  const { event: e, verdict } = entry;
  const ignored = verdict.apply ? null : verdict.reason;
  return d1
    .prepare(
      "INSERT INTO communication_event (id, tenant_id, communication_id, kind, status, provider, provider_config_id, error, detail, dedupe_key, created_at) " +
        "SELECT ?1, tenant_id, id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM communication WHERE tenant_id = ?10 AND id = ?11 ON CONFLICT DO NOTHING",
    )
    .bind(
      uuidv7(e.occurredAt.getTime()),
      ignored ? "ignored_receipt" : "provider_event",
      ignored ? null : e.status,
      by.provider,
      by.configId,
      ignored ? `receipt ignored: ${IGNORE_REASONS[ignored]}` : (e.error ?? null),
      JSON.stringify(ignored ? { event: e.name, status: e.status, reason: ignored, ...e.detail } : { event: e.name, ...e.detail }),
      // Its own key, so that the same event applied later (once the message is sent) still lands.
      ignored ? `ignored:${e.dedupeKey}` : e.dedupeKey,
      e.occurredAt.getTime(),
      by.tenantId,
      entry.message.id,
    );
}

/** A bounce, complaint or opt-out in an applied receipt puts the contact on the list. */
export const suppressionStatement = (d1: D1Database, by: Reporter, messageId: string, suppress: NonNullable<ProviderEvent["suppress"]>, now: Date) =>
  d1
    .prepare(
      "INSERT INTO suppression (tenant_id, channel, contact, reason, detail, source, communication_id, created_at) " +
        "SELECT tenant_id, channel, recipient_contact, ?3, ?4, ?5, id, ?6 FROM communication WHERE tenant_id = ?1 AND id = ?2 ON CONFLICT DO NOTHING",
    )
    .bind(by.tenantId, messageId, suppress.reason, suppress.detail ?? null, by.provider, now.getTime());
