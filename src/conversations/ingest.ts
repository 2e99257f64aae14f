/**
 * The batch ingest behind `receiveInbound` (STYLE 7a): one D1 round trip reads what every message
 * in the batch needs (stored duplicates, threads, the communications they may answer, profiles),
 * `decide` (thread.ts) settles each message, media in hand (email attachments) goes to R2
 * concurrently while media a provider only links to is recorded as pending (media.ts), and one
 * `batch()` writes every thread, message, keyword effect, business event and webhook delivery,
 * together with any HELP answer's communication (storeAndEnqueue). Queue sends follow the write:
 * the automation queue for tenant keywords, the events queue for `message.received` deliveries
 * and for one media job (media-job.ts) naming the messages with pending media, whose
 * `message.received` waits for them to be fetched. Nothing here calls a media host, so the
 * provider's webhook is answered however slow one is; keywords never wait for media.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { ConversationMedia } from "../db/schema";
import { database, runBatch } from "../db/client";
import {
  insertMessage,
  profilesWithContacts,
  recentSendsTo,
  sentByIds,
  sentByProviderIds,
  storedByProviderIds,
  threadsById,
  threadsWithContacts,
  upsertThread,
  type ConversationMessageRow,
  type ConversationRow,
  type SentRow,
} from "../db/conversations";
import { insertBusinessEvent, type BusinessEventRow } from "../db/business-events";
import { insertDelivery, type WebhookEndpointRow } from "../db/webhooks";
import { cachedEndpoints, cachedSettings } from "../cache/tenant-config";
import { eventMessage, enqueueEvents } from "../automation/message";
import { readConfig, type Env } from "../env";
import { uuidv7 } from "../lib/ids";
import { chunk } from "../lib/chunk";
import type { AcceptContext } from "../pipeline/accept";
import { storeAndEnqueue } from "../pipeline/accept";
import { keywordStatements } from "../pipeline/opt-out";
import { sendQueues } from "../pipeline/send-lanes";
import type { InboundMessage, ReceiveResult } from "./inbound";
import { receivedDeliveries } from "./received-event";
import { isPending, recordMedia } from "./media";
import { mediaJobs } from "./media-job";
import { prepareThreadSend } from "./send";
import { ANSWER_WINDOW_MS, contactOf, decide, keyString, referencedIds, storedKey, type BatchView, type Decision } from "./thread";
import { verifyReplyToken, tokenOfAddress } from "./reply-token";

type Stored = Extract<Decision, { kind: "store" }> & { m: InboundMessage; messageId: string; conversationId: string; at: Date };

export async function ingestInbound(env: Env, tenantId: string, messages: InboundMessage[]): Promise<ReceiveResult[]> {
  const db = database(env.DB);
  const config = readConfig(env);
  const now = new Date();
  const contacts = [...new Set(messages.map((m) => contactOf(m.channel, m.from)))];
  const providerIds = [...new Set(messages.map((m) => m.providerMessageId))];
  const references = [...new Set(messages.flatMap((m) => referencedIds(m.inReplyTo)))];
  // Reply tokens are checked before the read, so a forged one costs no query.
  const tokens = await Promise.all(messages.map((m) => {
    const token = m.replyToken ?? (m.channel === "email" ? tokenOfAddress(m.to) : undefined);
    return token ? verifyReplyToken(config.encryptionKey, tenantId, token) : Promise.resolve(undefined);
  }));
  const tokenIds = [...new Set(tokens.filter((t): t is string => !!t))];
  const oldest = Math.min(...messages.map((m) => Date.parse(m.receivedAt) || now.getTime()));

  const [settingsAndEndpoints, rows] = await Promise.all([
    Promise.all([cachedSettings(db, tenantId), cachedEndpoints(db, tenantId)]),
    runBatch(db, [
      storedByProviderIds(db, tenantId, providerIds),
      threadsWithContacts(db, tenantId, contacts),
      sentByProviderIds(db, tenantId, references.length ? references : ["\u0000"]),
      sentByIds(db, tenantId, tokenIds.length ? tokenIds : ["\u0000"]),
      recentSendsTo(db, tenantId, contacts, new Date(oldest - ANSWER_WINDOW_MS)),
      profilesWithContacts(db, tenantId, contacts),
    ]) as Promise<unknown[][]>,
  ]);
  const [settings, endpoints] = settingsAndEndpoints;
  const [stored, threads, named, byToken, recent, profiles] = rows as [
    { id: string; conversationId: string; providerConfigId: string | null; providerMessageId: string | null; media: ConversationMedia[] | null }[],
    ConversationRow[],
    SentRow[],
    SentRow[],
    SentRow[],
    BatchView["profiles"],
  ];
  const view: BatchView = {
    stored: new Map(stored.map((s) => [storedKey(s.providerConfigId ?? "", s.providerMessageId ?? ""), { id: s.id, conversationId: s.conversationId }])),
    threads: new Map(threads.map((t) => [keyString(t), t])),
    sentByProviderId: new Map(named.filter((s) => s.providerMessageId).map((s) => [s.providerMessageId!, s])),
    sentById: new Map(byToken.map((s) => [s.id, s])),
    recent,
    profiles,
    keywords: settings?.conversations?.keywords ?? [],
  };

  // A provider's retry of a message whose media are still pending brings back its media job (the
  // job is idempotent): the one queued with the original may have been lost.
  const stillFetching = new Set(stored.filter((s) => (s.media ?? []).some(isPending)).map((s) => s.id));
  const refetch: { id: string; to: string }[] = [];

  // Decide each message; a repeat inside the batch is a duplicate of the first.
  const results: ReceiveResult[] = [];
  const kept: Stored[] = [];
  const newThreads = new Map<string, ConversationRow>();
  messages.forEach((m, i) => {
    const at = new Date(Date.parse(m.receivedAt) || now.getTime());
    const d = decide(m, view, tokens[i], at);
    if (d.kind === "duplicate") {
      if (stillFetching.delete(d.messageId)) refetch.push({ id: d.messageId, to: m.to });
      return void results.push({ status: "duplicate", messageId: d.messageId, conversationId: d.conversationId });
    }
    const k = keyString(d.key);
    const conversationId = d.thread?.id ?? newThreads.get(k)?.id ?? uuidv7(now.getTime());
    if (!d.thread && !newThreads.has(k)) newThreads.set(k, threadRow(tenantId, conversationId, d, m, at, now));
    const s: Stored = { ...d, m, messageId: uuidv7(now.getTime()), conversationId, at };
    view.stored.set(storedKey(m.providerConfigId, m.providerMessageId), { id: s.messageId, conversationId });
    kept.push(s);
    results.push({ status: "stored", messageId: s.messageId, conversationId, ...(d.keyword ? { keyword: d.keyword } : {}) });
  });
  if (kept.length === 0) {
    if (refetch.length) await env.EVENT_QUEUE.sendBatch(mediaJobs(tenantId, refetch).map((body) => ({ body })));
    return results;
  }

  const media = await recordMedia(env, tenantId, kept.map((s) => ({ messageId: s.messageId, items: s.m.media ?? [] })));
  const statements: BatchItem<"sqlite">[] = [];
  // One upsert per thread, counting the batch's messages to it.
  const perThread = new Map<string, Stored[]>();
  for (const s of kept) perThread.set(keyString(s.key), [...(perThread.get(keyString(s.key)) ?? []), s]);
  for (const [k, list] of perThread) {
    const last = list.reduce((a, b) => (a.at > b.at ? a : b));
    const base = list[0]!.thread ?? newThreads.get(k)!;
    const answered = list.find((s) => s.answered)?.answered;
    const recipient = list.find((s) => s.recipient)?.recipient;
    statements.push(
      upsertThread(db, {
        ...base,
        providerConfigId: last.m.providerConfigId,
        recipientType: base.recipientType ?? recipient?.type ?? null,
        recipientId: base.recipientId ?? recipient?.id ?? null,
        communicationId: base.communicationId ?? answered?.id ?? null,
        lastInboundAt: last.at,
        lastMessageAt: last.at,
        // Counted from zero for a new thread; an existing one adds the batch's messages to its own.
        unreadCount: list.length,
        updatedAt: now,
      }, list.length),
    );
  }
  const messageRows: ConversationMessageRow[] = kept.map((s, i) => ({
    id: s.messageId,
    tenantId,
    conversationId: s.conversationId,
    direction: "in",
    providerConfigId: s.m.providerConfigId,
    providerMessageId: s.m.providerMessageId,
    text: s.m.text ?? null,
    subject: s.m.subject ?? null,
    button: s.m.button ?? null,
    media: media[i]!.length ? media[i]! : null,
    communicationId: null,
    inReplyToCommunicationId: s.answered?.id ?? null,
    inReplyTo: s.m.inReplyTo ?? null,
    keyword: s.keyword ?? null,
    at: s.at,
    createdAt: now,
    mediaSweptAt: null,
  }));
  kept.forEach((s, i) => {
    const { conversationId: _, ...row } = messageRows[i]!;
    statements.push(insertMessage(db, row, s.key));
    if (s.keyword === "stop" || s.keyword === "start") statements.push(...keywordStatements(db, tenantId, s.key.channel, s.key.contact, s.m.text ?? s.m.button?.text ?? "", now));
  });

  // Tenant keywords become business events, processed by the automation consumer like POST /api/events.
  const events: BusinessEventRow[] = kept.filter((s) => s.tenantEvent).map((s) => businessEvent(tenantId, s, now));
  statements.push(...events.map((e) => insertBusinessEvent(db, e)));
  // A message with media to fetch is announced by its media job, once they are stored (or given up on).
  const waits = media.map((items) => items.some(isPending));
  const fetching = [...refetch, ...kept.filter((_, i) => waits[i]).map((s) => ({ id: s.messageId, to: s.m.to }))];
  const announced = kept.flatMap((s, i) => (waits[i] ? [] : [{ row: messageRows[i]!, channel: s.key.channel, from: s.key.contact, to: s.m.to, recipient: s.recipient, answered: s.answered }]));
  const deliveries = receivedDeliveries(endpoints as WebhookEndpointRow[], announced, now);
  statements.push(...deliveries.map((d) => insertDelivery(db, d)));

  // HELP: the tenant's text goes back in the thread, stored in the same write.
  const ctx: AcceptContext = { db, queue: sendQueues(env), tenantId, createdBy: null, now, secret: config.encryptionKey };
  const helpText = settings?.conversations?.helpText;
  const help = helpText ? kept.filter((s) => s.keyword === "help") : [];
  const sends = await Promise.all(
    help.map((s) => prepareThreadSend(ctx, { ...(s.thread ?? newThreads.get(keyString(s.key))!), recipientType: s.recipient?.type ?? null, recipientId: s.recipient?.id ?? null }, { content: helpText!, type: "conversation_help", ...(s.key.channel === "email" ? { subject: "Help" } : {}) })),
  );
  if (sends.length) {
    await storeAndEnqueue(ctx, sends.flatMap((p) => p.rows), [...statements, ...sends.flatMap((p) => p.statements)], sends.flatMap((p) => p.followUps));
  } else {
    await runBatch(db, statements);
  }

  // After the commit: a lost queue send is recovered by the cron passes (events) or left to the
  // delivery log (webhooks), never by writing twice. A lost media job fails the request, so a
  // provider that retries its webhook brings the job back (a duplicate whose media are still
  // pending queues it again, above).
  await Promise.all([
    fetching.length ? env.EVENT_QUEUE.sendBatch(mediaJobs(tenantId, fetching).map((body) => ({ body }))) : undefined,
    events.length ? enqueueEvents(env.AUTOMATION_QUEUE, events.map((e) => eventMessage(tenantId, e.id))).catch((error) => console.error(JSON.stringify({ msg: "could not enqueue keyword events; the cron pass will", error: String(error) }))) : undefined,
    ...chunk(deliveries, 100).map((part) => env.EVENT_QUEUE.sendBatch(part.map((d) => ({ body: { kind: "delivery" as const, tenantId, deliveryId: d.id } })))),
  ]);
  return results;
}

function threadRow(tenantId: string, id: string, d: Extract<Decision, { kind: "store" }>, m: InboundMessage, at: Date, now: Date): ConversationRow {
  return {
    id,
    tenantId,
    channel: d.key.channel,
    contact: d.key.contact,
    ourAddress: d.key.ourAddress,
    providerConfigId: m.providerConfigId,
    recipientType: d.recipient?.type ?? null,
    recipientId: d.recipient?.id ?? null,
    communicationId: d.answered?.id ?? null,
    lastInboundAt: at,
    lastMessageAt: at,
    unreadCount: 0,
    createdAt: now,
    updatedAt: now,
  };
}

function businessEvent(tenantId: string, s: Stored, now: Date): BusinessEventRow {
  return {
    id: uuidv7(now.getTime()),
    tenantId,
    type: s.tenantEvent!,
    entityType: s.answered?.entityType ?? null,
    entityId: s.answered?.entityId ?? null,
    recipients: s.recipient ? [{ type: s.recipient.type, id: s.recipient.id }] : [],
    data: { conversationId: s.conversationId, messageId: s.messageId, channel: s.key.channel, from: s.key.contact, text: s.m.text ?? s.m.button?.text ?? null, communicationId: s.answered?.id ?? null },
    occurredAt: s.at,
    // A provider's retry of the same message never emits the event twice.
    idempotencyKey: `inbound:${s.m.providerConfigId}:${s.m.providerMessageId}`,
    status: "pending",
    outcome: null,
    receivedAt: now,
    claimedAt: null,
    processedAt: null,
  };
}
