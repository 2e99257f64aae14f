/**
 * What follows a status change, wherever it happened (delivery, provider webhook, cancel,
 * dead-letter): the day's stats counters move, and the change is announced on the events queue
 * for the tenant's webhooks. Callers run the stats statements in the same D1 batch as the change.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { addToStats, dayOf, METRICS, type Metric, type StatDelta, type StatKey } from "../db/stats";
import type { Channel, CommunicationStatus } from "../domain";
import type { EventMessage } from "./event-message";
import { enqueueAll } from "./queue-message";

export type Transition = {
  tenantId: string;
  communicationId: string;
  channel: Channel;
  type: string;
  createdAt: Date;
  status: CommunicationStatus;
  at: Date;
  /** Accept-to-sent time, on the transition to sent. */
  sendLatencyMs?: number;
};

/** The transition a stored communication makes to `status` at `at`. */
export const transitionOf = (
  c: { tenantId: string; id: string; channel: Channel; type: string; createdAt: Date },
  status: CommunicationStatus,
  at: Date,
  extra: Partial<Transition> = {},
): Transition => ({ tenantId: c.tenantId, communicationId: c.id, channel: c.channel, type: c.type, createdAt: c.createdAt, status, at, ...extra });

const metricOf = (status: CommunicationStatus): Metric | undefined =>
  (METRICS as readonly string[]).includes(status) ? (status as Metric) : undefined;

/** One upsert per (tenant, day, channel, type) touched, however many transitions. */
export function statsStatements(db: Db, transitions: Transition[], metric?: (t: Transition) => Metric | undefined): BatchItem<"sqlite">[] {
  const groups = new Map<string, { key: StatKey; delta: StatDelta }>();
  for (const t of transitions) {
    const m = metric ? metric(t) : metricOf(t.status);
    if (!m) continue;
    const key: StatKey = { tenantId: t.tenantId, day: dayOf(t.createdAt), channel: t.channel, type: t.type };
    const id = `${key.tenantId}|${key.day}|${key.channel}|${key.type}`;
    const group = groups.get(id) ?? { key, delta: {} };
    group.delta[m] = (group.delta[m] ?? 0) + 1;
    if (t.sendLatencyMs !== undefined) {
      group.delta.sendLatencyMs = (group.delta.sendLatencyMs ?? 0) + t.sendLatencyMs;
      group.delta.sendLatencyCount = (group.delta.sendLatencyCount ?? 0) + 1;
    }
    groups.set(id, group);
  }
  return [...groups.values()].map((g) => addToStats(db, g.key, g.delta));
}

/**
 * Puts status changes on the events queue. A failure here must not undo or fail the change it
 * reports (the send already happened), so it is logged rather than thrown.
 */
export async function announce(queue: Queue<EventMessage>, transitions: Transition[]) {
  const messages = transitions
    .filter((t) => t.status !== "sending")
    .map((t) => ({
      body: { kind: "status", tenantId: t.tenantId, communicationId: t.communicationId, status: t.status, at: t.at.getTime() } satisfies EventMessage,
    }));
  try {
    await enqueueAll(queue, messages);
  } catch (error) {
    console.error(JSON.stringify({ msg: "could not announce status changes", count: messages.length, error: String(error) }));
  }
}
