/**
 * Which send queue a communication travels on. Three lanes, each its own queue with its own
 * backlog, all drained by the same consumer code: `priority` (urgent and high sends: a password
 * reset or a one-time code), `standard` (everything else an API caller or a rule sends) and `bulk`
 * (campaigns). A queue delivers roughly in order, so a lane is the only way to keep a code from
 * waiting behind ten thousand newsletters or a burst of normal traffic. Every place that enqueues a
 * send (accept, the sweep, scheduled hops, receipt checks, escalations, automation, campaigns)
 * asks `laneFor`, so a message never changes lane when it is re-enqueued; retries go back on
 * the queue they came from (`message.retry`).
 */
import type { Env } from "../env";
import type { Priority } from "../domain";
import { enqueueAll, type SendMessage } from "./queue-message";

export const LANES = ["priority", "standard", "bulk"] as const;
export type Lane = (typeof LANES)[number];

/** Where a send comes from: a campaign's communications are bulk whatever their priority. */
export type SendOrigin = "transactional" | "campaign";

export function laneFor(priority: Priority, origin: SendOrigin): Lane {
  // A high-priority campaign of 100,000 members in the priority lane would be exactly the backlog
  // the lane exists to avoid.
  if (origin === "campaign") return "bulk";
  switch (priority) {
    case "urgent":
    case "high":
      return "priority";
    case "normal":
    case "low":
      return "standard";
  }
}

/** The lane of a stored communication: campaign rows carry their campaign's id. */
export const laneOf = (row: { priority: Priority; campaignId: string | null }): Lane =>
  laneFor(row.priority, row.campaignId ? "campaign" : "transactional");

export type SendQueues = Record<Lane, Queue<SendMessage>>;

export const sendQueues = (env: Pick<Env, "PRIORITY_QUEUE" | "SEND_QUEUE" | "BULK_QUEUE">): SendQueues => ({
  priority: env.PRIORITY_QUEUE,
  standard: env.SEND_QUEUE,
  bulk: env.BULK_QUEUE,
});

/**
 * Every lane on the bulk queue: the sends of a workflow run started by an audience trigger
 * (src/workflows/fanout.ts) are bulk whatever their priority, as a campaign's are. Their later
 * hops (a scheduled re-enqueue, a receipt check, the sweep) follow laneOf, which sees only the
 * priority: a small share of the traffic.
 */
export const bulkQueues = (env: Pick<Env, "BULK_QUEUE">): SendQueues => ({ priority: env.BULK_QUEUE, standard: env.BULK_QUEUE, bulk: env.BULK_QUEUE });

export type LanedSend = { lane: Lane; body: SendMessage; delaySeconds?: number };

/** Sends each message on its lane's queue, priority first; one sendBatch per lane per 100. */
export async function enqueueSends(queues: SendQueues, sends: LanedSend[]): Promise<void> {
  for (const lane of LANES) {
    const mine = sends.filter((s) => s.lane === lane).map(({ body, delaySeconds }) => (delaySeconds === undefined ? { body } : { body, delaySeconds }));
    if (mine.length) await enqueueAll(queues[lane], mine);
  }
}
