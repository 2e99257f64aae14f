/**
 * The media job: the linked media of inbound messages, fetched after the provider's webhook was
 * answered, then `message.received` for those messages. ingest.ts stores each such message with
 * its linked media `pending` and queues one job per ingest batch naming the tenant and the
 * messages; nothing here runs while a provider waits (Twilio drops or retries after 15 s).
 *
 * It rides the events queue (herald-events) rather than a queue of its own: what it ends in is
 * tenant-webhook deliveries, which that queue already carries and attempts, its consumer hands
 * batches over within a second (herald-automation and herald-campaigns are for business events and
 * bulk fan-out, where a message waits behind a campaign's chunks), and a new binding would need
 * a new queue in both Workers' configs for one kind of message. consume.ts runs media jobs beside
 * the batch's webhook work, so a slow media host does not delay the outcomes of webhook attempts.
 *
 * A batch of jobs is one unit (STYLE 7a): one D1 round trip reads every message, its thread, the
 * communication it answers and its config; downloads run AT_ONCE at a time (media.ts), each with
 * its own timeout; one `batch()` writes every message's media and every new delivery. Idempotent:
 * a message without pending media is skipped (no fetch, no event), so a redelivered job fetches
 * nothing twice and announces nothing twice; delivery ids derive from the message and endpoint.
 */
import { z } from "zod";
import type { BatchItem } from "drizzle-orm/batch";
import type { Env } from "../env";
import { readConfig } from "../env";
import { database, runBatch } from "../db/client";
import { answeredByMessages, configsOfMessages, inboundByIds, settleMedia, threadsOfMessages, type ConversationMessageRow, type ConversationRow, type SentRow } from "../db/conversations";
import type { ProviderConfigRow } from "../db/providers";
import type { ConversationMedia } from "../db/schema";
import { insertDelivery, type WebhookDeliveryRow } from "../db/webhooks";
import { cachedEndpoints } from "../cache/tenant-config";
import { chunk } from "../lib/chunk";
import { fetchPending, isPending, mediaSources } from "./media";
import { receivedDeliveries, type Received } from "./received-event";

/** Messages per job: each read binds the ids once, and D1 binds at most 100 parameters a statement. */
export const MEDIA_JOB_MAX = 50;

/**
 * Names the messages by id, each with the `to` the provider gave: `message.received` carries it
 * as received (Twilio's `whatsapp:+1…`), and the thread keeps only its normalised form.
 */
export const MediaJob = z.object({
  kind: z.literal("media"),
  tenantId: z.string().min(1),
  messages: z.array(z.object({ id: z.string().min(1), to: z.string() })).min(1).max(MEDIA_JOB_MAX),
});
export type MediaJob = z.infer<typeof MediaJob>;

/** The jobs for one ingest batch's messages with media to fetch (one, unless it held more than MEDIA_JOB_MAX). */
export const mediaJobs = (tenantId: string, messages: MediaJob["messages"]): MediaJob[] => chunk(messages, MEDIA_JOB_MAX).map((part) => ({ kind: "media", tenantId, messages: part }));

/**
 * Tries of a job before a download that keeps failing for a reason that may pass (a timeout, a
 * 5xx) is given up on: its error is recorded and the event goes out. Below herald-events'
 * max_retries (8), so the queue never drops a job before its last try has announced its messages.
 */
export const MEDIA_ATTEMPTS = 3;
/** Seconds before the second and third try. */
const RETRY_DELAYS = [30, 120] as const;
/**
 * Pending media one invocation takes on: 3 downloads at a time of up to MEDIA_TIMEOUT_MS each
 * makes 60 at most 10 minutes when every host hangs, inside a queue consumer's 15 minutes of wall
 * time. A batch's first job is always taken, however many it holds.
 */
const BATCH_MEDIA = 60;

export type MediaOutcome = { action: "ack" } | { action: "retry"; delaySeconds: number };
export type MediaSettled = { outcome: MediaOutcome } | { error: unknown };

/** A message's key across the batch's tenants. */
const keyOf = (tenantId: string, messageId: string) => `${tenantId}\u0000${messageId}`;

type Read = { messages: ConversationMessageRow[]; threads: ConversationRow[]; answered: SentRow[]; configs: ProviderConfigRow[] };

/** Handles a queue batch's media jobs (with the queue's attempt count each); one settlement per job, in order. */
export async function handleMediaJobs(env: Env, jobs: { job: MediaJob; attempts: number }[]): Promise<MediaSettled[]> {
  const db = database(env.DB);
  const config = readConfig(env);
  const now = new Date();
  const tenants = [...new Set(jobs.map((j) => j.job.tenantId))];
  const toOf = new Map(jobs.flatMap(({ job }) => job.messages.map((m) => [keyOf(job.tenantId, m.id), m.to] as const)));
  const idsOf = (t: string) => [...new Set(jobs.filter((j) => j.job.tenantId === t).flatMap((j) => j.job.messages.map((m) => m.id)))];
  const parts = tenants.flatMap((tenantId) => chunk(idsOf(tenantId), MEDIA_JOB_MAX).map((ids) => ({ tenantId, ids })));

  let read: Map<string, Read>;
  let endpoints: Map<string, Awaited<ReturnType<typeof cachedEndpoints>>>;
  try {
    const [rows, loaded] = await Promise.all([
      runBatch(db, parts.flatMap(({ tenantId, ids }) => [inboundByIds(db, tenantId, ids), threadsOfMessages(db, tenantId, ids), answeredByMessages(db, tenantId, ids), configsOfMessages(db, tenantId, ids)])) as Promise<unknown[][]>,
      Promise.all(tenants.map((t) => cachedEndpoints(db, t))),
    ]);
    read = new Map(tenants.map((t) => [t, { messages: [], threads: [], answered: [], configs: [] }]));
    parts.forEach(({ tenantId }, k) => {
      const r = read.get(tenantId)!;
      r.messages.push(...(rows[4 * k] as ConversationMessageRow[]));
      r.threads.push(...(rows[4 * k + 1] as ConversationRow[]));
      r.answered.push(...(rows[4 * k + 2] as SentRow[]));
      r.configs.push(...(rows[4 * k + 3] as ProviderConfigRow[]));
    });
    endpoints = new Map(tenants.map((t, i) => [t, loaded[i]!]));
  } catch (error) {
    return jobs.map(() => ({ error }));
  }

  // The jobs this invocation takes, in order, up to BATCH_MEDIA pending media; the rest go back on the queue.
  const pendingOf = new Map([...read].flatMap(([tenantId, r]) => r.messages.map((m) => [keyOf(tenantId, m.id), (m.media ?? []).filter(isPending).length] as const)));
  const taken: boolean[] = [];
  let budget = BATCH_MEDIA;
  for (const { job } of jobs) {
    const count = job.messages.reduce((n, { id }) => n + (pendingOf.get(keyOf(job.tenantId, id)) ?? 0), 0);
    taken.push(budget === BATCH_MEDIA || count <= budget);
    if (taken.at(-1)) budget -= count;
  }
  // A message named by two jobs of the batch (a redelivery beside its original) is handled once, at the later try.
  const lastTry = new Map<string, boolean>();
  jobs.forEach(({ job, attempts }, j) => {
    if (!taken[j]) return;
    for (const { id } of job.messages) lastTry.set(keyOf(job.tenantId, id), (lastTry.get(keyOf(job.tenantId, id)) ?? false) || attempts >= MEDIA_ATTEMPTS);
  });

  // Every pending medium of the jobs taken, fetched together.
  const work = [...read].flatMap(([tenantId, r]) => r.messages.filter((m) => lastTry.has(keyOf(tenantId, m.id)) && (m.media ?? []).some(isPending)).map((row) => ({ tenantId, row, read: r })));
  const sources = new Map(await Promise.all(tenants.map(async (t) => [t, await mediaSources(config.encryptionKey, read.get(t)!.configs)] as const)));
  const items = work.flatMap((w, i) =>
    (w.row.media ?? []).flatMap((medium, n) => (isPending(medium) ? [{ i, n, tenantId: w.tenantId, messageId: w.row.id, medium, source: w.row.providerConfigId ? sources.get(w.tenantId)!.get(w.row.providerConfigId) : undefined }] : [])),
  );
  const fetched = await fetchPending(env, items, config.allowLoopbackUrls);

  // Per message: what it now holds, and whether anything is left for a later try.
  const statements: BatchItem<"sqlite">[] = [];
  const deliveries: WebhookDeliveryRow[] = [];
  const unsettled = new Set<string>();
  work.forEach((w, i) => {
    const media: ConversationMedia[] = [...(w.row.media ?? [])];
    const last = lastTry.get(keyOf(w.tenantId, w.row.id))!;
    items.forEach((item, k) => {
      if (item.i !== i) return;
      const got = fetched[k]!;
      // A failure that may pass stays pending for the next try, unless this is the last one.
      if (got.retryable && !last) return;
      media[item.n] = got.medium;
    });
    if (media.some(isPending)) unsettled.add(keyOf(w.tenantId, w.row.id));
    if (JSON.stringify(media) !== JSON.stringify(w.row.media)) statements.push(settleMedia(db, w.tenantId, w.row.id, w.row.media ?? [], media));
    const facts = media.some(isPending) ? undefined : received({ ...w.row, media }, toOf.get(keyOf(w.tenantId, w.row.id))!, w.read);
    if (facts) deliveries.push(...receivedDeliveries(endpoints.get(w.tenantId)!, [facts], now));
  });
  try {
    await runBatch(db, [...statements, ...deliveries.map((d) => insertDelivery(db, d).onConflictDoNothing())]);
  } catch (error) {
    return jobs.map(() => ({ error }));
  }
  // After the commit: a lost queue send leaves the delivery pending in the log, to replay (as for every message.received).
  await Promise.all(chunk(deliveries, 100).map((part) => env.EVENT_QUEUE.sendBatch(part.map((d) => ({ body: { kind: "delivery" as const, tenantId: d.tenantId, deliveryId: d.id } }))))).catch((error) =>
    console.error(JSON.stringify({ msg: "media job: could not enqueue message.received deliveries; they stay pending in the delivery log", error: String(error) })),
  );
  // Jobs left for another invocation go back as fresh messages, so the wait costs them none of their tries.
  const deferred = jobs.filter((_, j) => !taken[j]);
  let requeued = true;
  if (deferred.length) await env.EVENT_QUEUE.sendBatch(deferred.map(({ job }) => ({ body: job }))).catch(() => (requeued = false));

  return jobs.map(({ job, attempts }, j): MediaSettled => {
    if (!taken[j]) return { outcome: requeued ? { action: "ack" } : { action: "retry", delaySeconds: 1 } };
    const left = job.messages.some(({ id }) => unsettled.has(keyOf(job.tenantId, id)));
    return { outcome: left ? { action: "retry", delaySeconds: RETRY_DELAYS[Math.min(Math.max(attempts, 1), RETRY_DELAYS.length) - 1]! } : { action: "ack" } };
  });
}

/** What `message.received` says of a message, read back from its thread and the communication it answers (as ingest decided them). */
function received(row: ConversationMessageRow, to: string, r: Read): Received | undefined {
  const thread = r.threads.find((t) => t.id === row.conversationId);
  // A thread erased meanwhile takes its messages along: nothing left to announce.
  if (!thread) return undefined;
  const answered = row.inReplyToCommunicationId ? r.answered.find((s) => s.id === row.inReplyToCommunicationId) : undefined;
  // As decide() chose (thread.ts): the answered communication's recipient, else the thread's (which ingest set from the decision).
  const recipient =
    answered?.recipientId ? { type: answered.recipientType, id: answered.recipientId }
    : thread.recipientId && thread.recipientType ? { type: thread.recipientType, id: thread.recipientId }
    : undefined;
  return {
    row,
    channel: thread.channel,
    from: thread.contact,
    to,
    recipient,
    answered: answered ? { entityType: answered.entityType, entityId: answered.entityId } : undefined,
  };
}
