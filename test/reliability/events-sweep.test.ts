/**
 * The events sweep (src/pipeline/events-sweep.ts) through the cron: tenant-webhook deliveries and
 * media jobs that herald-events lost are queued again (and then delivered / settled), a delivery
 * waiting for a legitimate retry is left alone, one past its whole schedule is failed with a
 * reason, every tenant's rows are swept and each stays in its tenant, and the scans use the
 * partial indexes of migration 0038. Endpoints and media hosts are mocked at the fetch boundary.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import api from "../../src/index";
import { database } from "../../src/db/client";
import { failStaleDeliveries, staleMediaMessages, touchStaleDeliveries, touchStaleMedia } from "../../src/db/events-sweep";
import { DELIVERY_GIVE_UP_MS, DELIVERY_STALE_MS, LOST_DELIVERY, MEDIA_STALE_MS } from "../../src/pipeline/events-sweep";
import { WEBHOOK_RETRY_DELAYS } from "../../src/pipeline/tenant-webhooks";
import { addProvider, call, captureEvents, captureQueue, createTenant, mockProviders, runDelivery, runMediaJobs, TWILIO, TWILIO_SID, type RecordedRequest } from "../helpers";
import { twilioHeaders } from "../signing";

const HOOK = "https://hooks.acme.test";
const TWILIO_API = "https://twilio.mock";
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

let events: ReturnType<typeof captureEvents>;
let queue: ReturnType<typeof captureQueue>;
beforeEach(() => {
  vi.restoreAllMocks();
  events = captureEvents();
  queue = captureQueue();
});

/** One cron pass, as Cron Triggers run it; returns its `events sweep` log line. */
async function cron() {
  const log = vi.spyOn(console, "log");
  const ctx = createExecutionContext();
  await api.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
  const lines = log.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('"events sweep"'));
  log.mockRestore();
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, number>;
}

type Row = { id: string; tenant_id: string; status: string; attempts: number; last_error: string | null; updated_at: number };
const deliveriesOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT id, tenant_id, status, attempts, last_error, updated_at FROM webhook_delivery WHERE tenant_id = ?1 ORDER BY id").bind(tenantId).all<Row>()).results;
const age = (id: string, updatedMsAgo: number, createdMsAgo = updatedMsAgo, attempts = 0) =>
  env.DB.prepare("UPDATE webhook_delivery SET updated_at = ?1, created_at = ?2, attempts = ?3 WHERE id = ?4").bind(Date.now() - updatedMsAgo, Date.now() - createdMsAgo, attempts, id).run();

/** A tenant with an endpoint and one `communication.delivered` delivery logged, whose queued attempt is then lost. */
async function lostDelivery(name: string) {
  const { key, tenantId } = await createTenant(name);
  await addProvider(key, { channel: "sms", provider: "sandbox" });
  const ep = (await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/${tenantId}`, eventTypes: ["communication.delivered"] } })).json as { id: string; secret: string };
  await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550123", content: "hi" } });
  await runDelivery(queue.drain().map((m) => m.body));
  await runDelivery(events.drain(), { queue: "herald-events" }); // the fan-out logs the delivery...
  expect(events.drain().map((m) => m.kind)).toEqual(["delivery"]); // ...and its queued attempt is lost
  const [row] = await deliveriesOf(tenantId);
  expect(row).toMatchObject({ status: "pending", attempts: 0 });
  return { key, tenantId, ep, id: row!.id };
}

describe("events sweep: tenant-webhook deliveries", () => {
  it("derives its thresholds from the retry schedule", () => {
    expect(DELIVERY_STALE_MS).toBe(Math.max(...WEBHOOK_RETRY_DELAYS) * 1000 + 15 * 60_000);
    expect(DELIVERY_GIVE_UP_MS).toBe(WEBHOOK_RETRY_DELAYS.reduce((a, b) => a + b, 0) * 1000 + DELIVERY_STALE_MS);
  });

  it("queues again a delivery whose attempt was lost, in every tenant, and each is then delivered in its own tenant", async () => {
    const a = await lostDelivery("Acme");
    const b = await lostDelivery("Globex");
    const received: RecordedRequest[] = [];
    mockProviders({ [HOOK]: (req) => (received.push(req), new Response("ok")) });

    // Lost a moment ago: a first attempt may still be on its way, so nothing is queued yet.
    expect((await cron()).deliveriesReenqueued).toBe(0);
    expect(events.sent).toEqual([]);

    await age(a.id, DELIVERY_STALE_MS + 60_000);
    await age(b.id, DELIVERY_STALE_MS + 60_000);
    const log = await cron();
    expect(log).toMatchObject({ msg: "events sweep", deliveriesFailed: 0, notQueued: 0 });
    expect(log.deliveriesReenqueued).toBeGreaterThanOrEqual(2);
    const mine = events.drain().filter((m) => m.kind === "delivery" && [a.tenantId, b.tenantId].includes(m.tenantId));
    expect(mine).toEqual(expect.arrayContaining([{ kind: "delivery", tenantId: a.tenantId, deliveryId: a.id }, { kind: "delivery", tenantId: b.tenantId, deliveryId: b.id }]));
    expect(mine).toHaveLength(2);
    // Marked changed: the next pass does not queue them again while the new attempt runs.
    await cron();
    expect(events.sent.filter((m) => m.kind === "delivery" && [a.id, b.id].includes(m.deliveryId))).toEqual([]);

    await runDelivery(mine, { queue: "herald-events" });
    for (const t of [a, b]) {
      expect(await deliveriesOf(t.tenantId)).toEqual([expect.objectContaining({ id: t.id, status: "succeeded", attempts: 1 })]);
      // Signed with its own endpoint's secret, sent to its own endpoint.
      const req = received.find((r) => r.url === `${HOOK}/${t.tenantId}`)!;
      expect(new Webhook(t.ep.secret).verify(req.body, Object.fromEntries(req.headers))).toMatchObject({ type: "communication.delivered" });
      // Another tenant's key does not see it.
      const other = t === a ? b : a;
      expect((await call("GET", `/api/webhooks/${t.ep.id}/deliveries`, { key: other.key })).status).toBe(404);
    }
    expect(received).toHaveLength(2);
  });

  it("leaves alone a delivery waiting for its longest back-off, even when it is older than the schedule", async () => {
    const d = await lostDelivery("Acme");
    // Attempt 5 failed just short of the longest back-off plus the margin ago: attempt 6 is still due.
    await age(d.id, DELIVERY_STALE_MS - 60_000, DELIVERY_GIVE_UP_MS + 60_000, 5);
    const [before] = await deliveriesOf(d.tenantId);
    await cron();
    expect(events.sent.filter((m) => m.kind === "delivery" && m.deliveryId === d.id)).toEqual([]);
    expect(await deliveriesOf(d.tenantId)).toEqual([before]);
  });

  it("fails, saying why, a pending delivery with nothing coming that is older than its whole schedule", async () => {
    const d = await lostDelivery("Acme");
    await age(d.id, DELIVERY_GIVE_UP_MS + 60_000);
    const log = await cron();
    expect(log.deliveriesFailed).toBeGreaterThanOrEqual(1);
    expect(events.sent.filter((m) => m.kind === "delivery" && m.deliveryId === d.id)).toEqual([]);
    const [row] = await deliveriesOf(d.tenantId);
    expect(row).toMatchObject({ status: "failed", last_error: LOST_DELIVERY });
    expect(LOST_DELIVERY).toMatch(/lost.*replay it/);
    // The tenant sees why and can replay it.
    const [listed] = (await call("GET", `/api/webhooks/${d.ep.id}/deliveries`, { key: d.key })).json.results;
    expect(listed).toMatchObject({ status: "failed", lastError: LOST_DELIVERY });
  });
});

/** A tenant with Twilio and a `message.received` endpoint, and an MMS whose media job is lost. */
async function lostMediaJob(name: string, sid: string) {
  const { key, tenantId } = await createTenant(name);
  const p = await addProvider(key, TWILIO());
  const ep = (await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/${tenantId}`, eventTypes: ["message.received"] } })).json as { id: string };
  const url = `https://herald.test/webhooks/inbound/twilio/${p.id}`;
  const form = new URLSearchParams({
    MessageSid: sid, From: "+14155550199", To: "+14155550100", Body: "photo", NumMedia: "1",
    MediaUrl0: `${TWILIO_API}/2010-04-01/Accounts/${TWILIO_SID}/Messages/${sid}/Media/ME1`, MediaContentType0: "image/jpeg",
  });
  const res = await exports.default.fetch(url, { method: "POST", body: form.toString(), headers: await twilioHeaders("twilio-auth-token", url, form) });
  expect(res.status).toBe(200);
  const [job] = events.drain(); // lost
  expect(job).toMatchObject({ kind: "media", tenantId });
  const id = (job as { messages: { id: string }[] }).messages[0]!.id;
  return { key, tenantId, ep, id };
}

const backdateMessage = (id: string, msAgo: number) => env.DB.prepare("UPDATE conversation_message SET created_at = ?1 WHERE id = ?2").bind(Date.now() - msAgo, id).run();
const messageReceived = async (tenantId: string) =>
  (await env.DB.prepare("SELECT id, payload FROM webhook_delivery WHERE tenant_id = ?1 AND event_type = 'message.received'").bind(tenantId).all<{ id: string; payload: string }>()).results;

describe("events sweep: media jobs", () => {
  it("queues a fresh job for a message whose media stayed pending, per tenant; the job stores them and message.received goes out once", async () => {
    const a = await lostMediaJob("Acme", "MMsweepA");
    const b = await lostMediaJob("Globex", "MMsweepB");
    const hook: RecordedRequest[] = [];
    const { requests } = mockProviders({
      [TWILIO_API]: () => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }),
      [HOOK]: (req) => (hook.push(req), new Response("ok")),
    });

    // Its job may still be running: not yet.
    await backdateMessage(a.id, MEDIA_STALE_MS - 60_000);
    expect((await cron()).mediaMessagesReenqueued).toBe(0);
    expect(events.sent).toEqual([]);

    await backdateMessage(a.id, MEDIA_STALE_MS + 60_000);
    await backdateMessage(b.id, MEDIA_STALE_MS + 60_000);
    const log = await cron();
    expect(log.mediaMessagesReenqueued).toBeGreaterThanOrEqual(2);
    const jobs = events.sent.filter((m) => m.kind === "media" && [a.tenantId, b.tenantId].includes(m.tenantId));
    // One job per tenant, naming only that tenant's message, with the address it was sent to.
    expect(jobs).toEqual(expect.arrayContaining([
      { kind: "media", tenantId: a.tenantId, messages: [{ id: a.id, to: "+14155550100" }] },
      { kind: "media", tenantId: b.tenantId, messages: [{ id: b.id, to: "+14155550100" }] },
    ]));
    expect(jobs).toHaveLength(2);
    // Marked swept: the next pass does not queue another job while this one runs.
    events.drain();
    await cron();
    expect(events.sent.filter((m) => m.kind === "media")).toEqual([]);

    events.sent.push(...jobs);
    await runMediaJobs(events);
    expect(requests.filter((r) => r.url.startsWith(TWILIO_API))).toHaveLength(2);
    for (const t of [a, b]) {
      const [thread] = (await call("GET", "/api/conversations", { key: t.key })).json.results;
      const [m] = (await call("GET", `/api/conversations/${thread.id}/messages`, { key: t.key })).json.results;
      expect(m.media).toEqual([expect.objectContaining({ stored: true, contentType: "image/jpeg", size: JPEG.byteLength })]);
      expect(await env.ATTACHMENTS.get(`${t.tenantId}/inbound/${t.id}/0`)).not.toBeNull();
      expect(await messageReceived(t.tenantId)).toEqual([expect.objectContaining({ id: `evt_msg_${t.id}_${t.ep.id}` })]);
    }
    await runDelivery(events.drain(), { queue: "herald-events" });
    expect(hook.map((r) => r.url).sort()).toEqual([`${HOOK}/${a.tenantId}`, `${HOOK}/${b.tenantId}`].sort());
    expect(hook.map((r) => JSON.parse(r.body).data.id).sort()).toEqual([a.id, b.id].sort());

    // The lost original turning up after all: nothing fetched, logged or announced again.
    requests.length = 0;
    events.sent.push(...jobs);
    await runMediaJobs(events);
    expect(requests).toEqual([]);
    expect(events.sent).toEqual([]);
    expect(await messageReceived(a.tenantId)).toHaveLength(1);
    // Settled: the sweep has nothing left to queue for them.
    await backdateMessage(a.id, 2 * MEDIA_STALE_MS + 60_000);
    await cron();
    expect(events.sent.filter((m) => m.kind === "media")).toEqual([]);
  });
});

describe("events sweep: cheap scans", () => {
  const plan = async (q: { toSQL(): { sql: string; params: unknown[] } }) => {
    const { sql, params } = q.toSQL();
    const rows = (await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>()).results;
    return rows.map((r) => r.detail);
  };

  it("finds pending deliveries and pending media through the partial indexes of migration 0038", async () => {
    const db = database(env.DB);
    const now = new Date();
    for (const q of [failStaleDeliveries(db, now, now, 500, "x", now), touchStaleDeliveries(db, now, 500, now)]) {
      const details = await plan(q);
      expect(details.some((d) => d.includes("USING INDEX idx_webhook_delivery_pending")), details.join("\n")).toBe(true);
      expect(details.filter((d) => /^SCAN webhook_delivery\b/.test(d)), details.join("\n")).toEqual([]);
    }
    for (const q of [staleMediaMessages(db, now, 100), touchStaleMedia(db, now, 100, now)]) {
      const details = await plan(q);
      expect(details.some((d) => d.includes("USING INDEX idx_conversation_message_media_pending")), details.join("\n")).toBe(true);
      expect(details.filter((d) => /^SCAN (conversation_message|conversation)\b/.test(d)), details.join("\n")).toEqual([]);
    }
  });
});
