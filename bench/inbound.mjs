/**
 * Inbound ingest (issue 20): how fast customers' messages are threaded and forwarded. On the
 * running stack (bench/stack.mjs) a tenant gets a Twilio SMS config and a `message.received`
 * webhook endpoint on a loopback receiver; then `messages` inbound SMS webhooks, each signed as
 * Twilio signs them (`X-Twilio-Signature`, computed by the `twilio` package's own function), are
 * posted to `/webhooks/inbound/twilio/<configId>`, `concurrency` at a time, from `contacts`
 * different numbers (so most join an existing thread and some open one). Two rates come out:
 * threaded (every message verified, deduped, threaded and stored in D1 when the route answers)
 * and forwarded (every `message.received` verified with the endpoint's secret, as a tenant would,
 * at the receiver), with the latencies of each and workerd's CPU per message. Afterwards D1 must
 * hold exactly `messages` inbound messages in `contacts` threads, and each event must have
 * arrived once.
 *
 * `node bench/inbound.mjs [--messages 300 --concurrency 10 --contacts 50]` runs this phase alone
 * on its own stack; `npm run bench -- --inbound N` sets its size in the full run.
 */
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { getExpectedTwilioSignature } from "twilio/lib/webhooks/webhooks.js";
import { call } from "./api.mjs";
import { settle } from "./cpu.mjs";
import { isMain, runAlone } from "./alone.mjs";
import { fmt, spread, table } from "./format.mjs";

const ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;
const AUTH_TOKEN = "bench-twilio-auth-token";
const OUR_NUMBER = "+14155550100";
/** A forwarded event not seen for this long after the last one counts as lost. */
const STALL_MS = 20_000;

/** The tenant's webhook endpoint: records each `message.received` (verified) with when it arrived. */
async function startReceiver() {
  const received = [];
  const rejected = [];
  let webhook;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const at = performance.now();
    try {
      const event = webhook.verify(Buffer.concat(chunks).toString("utf8"), req.headers);
      received.push({ sid: event.data.providerMessageId, type: event.type, at });
      res.writeHead(200).end("ok");
    } catch (error) {
      rejected.push(String(error?.message ?? error));
      res.writeHead(400).end();
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    received,
    rejected,
    useSecret: (secret) => (webhook = new Webhook(secret)),
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/** A tenant with a Twilio SMS config (never sent through) and the receiver as its webhook. */
async function setUpTenant(stack, receiver) {
  const { tenant, apiKey } = await call(stack.url, stack.adminToken, "POST", "/admin/tenants", { name: "bench inbound" });
  await call(stack.url, stack.adminToken, "PATCH", `/admin/tenants/${tenant.id}`, { rateLimit: { perSecond: 100_000, burst: 1_000_000 } });
  const config = await call(stack.url, apiKey, "POST", "/api/providers", {
    channel: "sms",
    provider: "twilio",
    priority: 1,
    credentials: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
    // Nothing is sent in this phase; should anything be, it goes to the loopback receiver, not Twilio.
    settings: { from: OUR_NUMBER, baseUrl: receiver.origin },
  });
  const endpoint = await call(stack.url, apiKey, "POST", "/api/webhooks", { url: `${receiver.origin}/hooks/inbound`, eventTypes: ["message.received"] });
  receiver.useSecret(endpoint.secret);
  return { tenantId: tenant.id, apiKey, configId: config.id };
}

/** One inbound SMS as Twilio posts it, with its signature over the URL and the sorted params. */
function signedSms(url, i, contacts) {
  const params = {
    MessageSid: `SM${i.toString(16).padStart(32, "0")}`,
    AccountSid: ACCOUNT_SID,
    From: `+1415556${String(i % contacts).padStart(4, "0")}`,
    To: OUR_NUMBER,
    Body: `Can I pay invoice INV-${1000 + i} next week?`,
    NumMedia: "0",
    NumSegments: "1",
    SmsStatus: "received",
    ApiVersion: "2010-04-01",
  };
  return { sid: params.MessageSid, body: new URLSearchParams(params).toString(), signature: getExpectedTwilioSignature(AUTH_TOKEN, url, params) };
}

export async function measureInbound(stack, { messages = 300, concurrency = 10, contacts = 50, cpu } = {}) {
  const receiver = await startReceiver();
  stack.allowOutbound(receiver.origin);
  try {
    const tenant = await setUpTenant(stack, receiver);
    const url = `${stack.url}/webhooks/inbound/twilio/${tenant.configId}`;
    const posts = Array.from({ length: messages }, (_, i) => signedSms(url, i, contacts));
    await settle(cpu);
    const before = cpu?.();
    const started = performance.now();
    const answers = [];
    let next = 0;
    const worker = async () => {
      while (next < posts.length) {
        const p = posts[next++];
        const sentAt = performance.now();
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": p.signature }, body: p.body });
        const text = await res.text();
        answers.push({ sid: p.sid, status: res.status, ok: res.status === 200 && text.includes("<Response>"), text, sentAt, answeredAt: performance.now() });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, messages) }, worker));
    const threadedAt = performance.now();

    // Every event forwarded, or no progress for STALL_MS.
    let seen = 0;
    let lastMove = performance.now();
    while (new Set(receiver.received.map((r) => r.sid)).size < messages && performance.now() - lastMove < STALL_MS) {
      await sleep(50);
      if (receiver.received.length !== seen) lastMove = performance.now();
      seen = receiver.received.length;
    }
    await settle(cpu);
    const cpuMs = cpu ? cpu() - before : undefined;

    const firstSeen = new Map();
    for (const r of receiver.received) if (!firstSeen.has(r.sid)) firstSeen.set(r.sid, r.at);
    const forwardedAt = Math.max(...firstSeen.values());
    const rows = await stack.db
      .prepare("SELECT count(*) AS messages, count(DISTINCT conversation_id) AS threads FROM conversation_message WHERE tenant_id = ?1 AND direction = 'in'")
      .bind(tenant.tenantId)
      .first();
    // When events are missing, what the delivery log says of them.
    const deliveries = firstSeen.size < messages
      ? (await stack.db.prepare("SELECT status, last_status_code AS code, last_error AS error, count(*) AS n FROM webhook_delivery WHERE tenant_id = ?1 GROUP BY 1, 2, 3").bind(tenant.tenantId).all()).results
      : undefined;
    return {
      deliveries,
      messages,
      concurrency,
      contacts,
      failed: answers.filter((a) => !a.ok).map((a) => `${a.status} ${a.text.slice(0, 200)}`),
      threadedSeconds: (threadedAt - started) / 1000,
      forwardedSeconds: (forwardedAt - started) / 1000,
      answer: spread(answers.map((a) => a.answeredAt - a.sentAt)),
      toWebhook: spread(answers.filter((a) => firstSeen.has(a.sid)).map((a) => firstSeen.get(a.sid) - a.sentAt)),
      forwarded: firstSeen.size,
      duplicates: receiver.received.length - firstSeen.size,
      rejected: receiver.rejected,
      stored: rows.messages,
      threads: rows.threads,
      cpuMs,
    };
  } finally {
    await receiver.close();
  }
}

export function printInbound(r) {
  if (!r) return;
  console.log(
    `\nInbound ingest: ${fmt(r.messages)} signed Twilio SMS webhooks, ${fmt(r.concurrency)} in flight, from ${fmt(r.contacts)} numbers` +
      ` (${fmt(r.stored)} messages stored in ${fmt(r.threads)} threads; ${fmt(r.forwarded)} message.received events verified at the tenant's endpoint)`,
  );
  console.log(
    table(
      ["inbound", "messages/s", "p50 ms", "p99 ms", "max ms"],
      [
        ["threaded: verified, stored in D1 (the route's answer)", fmt(r.messages / r.threadedSeconds), fmt(r.answer.p50), fmt(r.answer.p99), fmt(r.answer.max)],
        ["forwarded: message.received at the tenant's webhook", fmt(r.forwarded / r.forwardedSeconds), fmt(r.toWebhook.p50), fmt(r.toWebhook.p99), fmt(r.toWebhook.max)],
      ],
    ),
  );
  if (r.cpuMs !== undefined) console.log(`workerd CPU: ${fmt(r.cpuMs / r.messages, 2)} ms per inbound message (route, ingest, the event's delivery)`);
}

export function inboundFailures(r) {
  if (!r) return [];
  const failures = [];
  if (r.failed.length) failures.push(`inbound: ${r.failed.length} webhooks were not answered with TwiML, first: ${r.failed[0]}`);
  if (r.stored !== r.messages) failures.push(`inbound: D1 holds ${r.stored} inbound messages, not ${r.messages}`);
  if (r.threads !== Math.min(r.contacts, r.messages)) failures.push(`inbound: ${r.threads} threads, not one per number (${Math.min(r.contacts, r.messages)})`);
  if (r.forwarded < r.messages) failures.push(`inbound: only ${r.forwarded} of ${r.messages} message.received events reached the endpoint; deliveries: ${JSON.stringify(r.deliveries)}`);
  if (r.duplicates) failures.push(`inbound: ${r.duplicates} events arrived twice`);
  if (r.rejected.length) failures.push(`inbound: ${r.rejected.length} events failed verification, first: ${r.rejected[0]}`);
  return failures;
}

if (isMain(import.meta.url)) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({ options: { messages: { type: "string", default: "300" }, concurrency: { type: "string", default: "10" }, contacts: { type: "string", default: "50" } } });
  await runAlone((stack, cpu) => measureInbound(stack, { messages: Number(values.messages), concurrency: Number(values.concurrency), contacts: Number(values.contacts), cpu }), printInbound, inboundFailures);
}
