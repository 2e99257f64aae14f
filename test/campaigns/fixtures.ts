/** Shared steps for the campaign tests: audiences, campaigns, and running their queues by hand. */
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import api from "../../src/index";
import delivery from "../../workers/delivery/src/index";
import type { CampaignMessage } from "../../src/campaigns/message";
import type { SendMessage } from "../../src/pipeline/queue-message";
import { call, runDelivery } from "../helpers";

const OK = { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendResponse;

/** Spies on a queue producer, keeping each body with its delay. */
function spy<T>(queue: Queue<T>) {
  const sent: { body: T; delaySeconds?: number }[] = [];
  vi.spyOn(queue, "sendBatch").mockImplementation(async (messages) => {
    for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    return OK as unknown as QueueSendBatchResponse;
  });
  vi.spyOn(queue, "send").mockImplementation(async (body, options) => {
    sent.push({ body, delaySeconds: options?.delaySeconds });
    return OK;
  });
  return { sent, drain: () => sent.splice(0, sent.length) };
}

export type Queues = { chunks: ReturnType<typeof spy<CampaignMessage>>; bulk: ReturnType<typeof spy<SendMessage>>; sends: ReturnType<typeof spy<SendMessage>> };

export const captureQueues = (): Queues => ({ chunks: spy(env.CAMPAIGN_QUEUE as Queue<CampaignMessage>), bulk: spy(env.BULK_QUEUE), sends: spy(env.SEND_QUEUE) });

let seq = 0;
/** Runs the delivery Worker's campaigns-queue handler on these messages. */
export async function runChunks(bodies: CampaignMessage[]) {
  const batch = createMessageBatch<CampaignMessage>("herald-campaigns", bodies.map((body) => ({ id: `c-${++seq}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await delivery.queue(batch as MessageBatch<unknown>, env);
  await waitOnExecutionContext(ctx);
  return getQueueResult(batch, ctx);
}

/** Follows a campaign's chain to its end (at most `limit` messages); returns the messages run. */
export async function fanOut(q: Queues, limit = 100) {
  const ran: { body: CampaignMessage; delaySeconds?: number }[] = [];
  while (q.chunks.sent.length && ran.length < limit) {
    const next = q.chunks.drain();
    ran.push(...next);
    for (const m of next) await runChunks([m.body]);
  }
  return ran;
}

/** Delivers what the campaign put on the bulk queue. */
export async function deliverBulk(q: Queues) {
  const bodies = q.bulk.drain().map((m) => m.body);
  for (let i = 0; i < bodies.length; i += 50) await runDelivery(bodies.slice(i, i + 50), { queue: "herald-bulk-sends" });
  return bodies.length;
}

export async function cron(at: Date | number = Date.now()) {
  const ctx = createExecutionContext();
  await api.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: at }), env, ctx);
  await waitOnExecutionContext(ctx);
}

export async function audience(key: string, members: Record<string, unknown>[], body: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/audiences", { key, body: { name: `list-${++seq}`, ...body } });
  expect(res.status, res.text).toBe(201);
  if (members.length) {
    const added = await call("POST", `/api/audiences/${res.json.id}/members`, { key, body: { members } });
    expect(added.status, added.text).toBe(200);
  }
  return res.json.id as string;
}

export const people = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ recipientId: `m${String(i + from).padStart(5, "0")}`, email: `m${i + from}@example.com`, name: `Member ${i + from}` }));

export async function campaign(key: string, body: Record<string, unknown>) {
  const res = await call("POST", "/api/campaigns", { key, body: { name: "Spring sale", channel: "email", subject: "Sale", content: "Hello {{name}}", ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; status: string };
}

export async function progress(key: string, id: string) {
  const res = await call("GET", `/api/campaigns/${id}`, { key });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** The campaign's communications, straight from D1 (the API pages only 100 at a time). */
export async function campaignRows(campaignId: string) {
  const { results } = await env.DB.prepare("SELECT id, recipient_id, status, campaign_variant, priority, recipient_contact FROM communication WHERE campaign_id = ? ORDER BY recipient_id").bind(campaignId).all<{
    id: string;
    recipient_id: string;
    status: string;
    campaign_variant: string;
    priority: string;
    recipient_contact: string;
  }>();
  return results;
}
