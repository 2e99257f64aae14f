/**
 * Campaigns end to end: fan-out through the campaigns queue creates exactly one communication
 * per member on the bulk queue; opt-outs and suppressions are honoured when each is sent; pause,
 * resume and cancel change the course mid-flight; replayed and lost chunk messages never send
 * twice; sendRate paces the chunks; the cron starts scheduled campaigns; progress is counted
 * from the communications; another tenant sees nothing.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, createTenant, mockProviders, SENDGRID, sendgridAccepts } from "../helpers";
import { audience, campaign, campaignRows, captureQueues, cron, deliverBulk, fanOut, people, progress, runChunks, type Queues } from "./fixtures";

let key: string;
let q: Queues;

beforeEach(async () => {
  vi.restoreAllMocks();
  q = captureQueues();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "email", provider: "sandbox" });
});

const act = async (id: string, action: string, body?: unknown) => call("POST", `/api/campaigns/${id}/${action}`, { key, body });

describe("fan-out", { timeout: 30_000 }, () => {
  it("creates exactly one low-priority marketing communication per member, on the bulk queue, and counts progress", async () => {
    const list = await audience(key, people(1_234));
    const c = await campaign(key, { audienceId: list });
    expect(c.status).toBe("draft");
    const sent = await act(c.id, "send");
    expect(sent.status, sent.text).toBe(202);
    expect(sent.json.status).toBe("sending");

    const messages = await fanOut(q);
    // 1,234 members in chunks of 200, five chunks per message: the second message finds the end.
    expect(messages.map((m) => m.body.after?.recipientId ?? null)).toEqual([null, "m00999"]);
    const rows = await campaignRows(c.id);
    expect(rows).toHaveLength(1_234);
    expect(new Set(rows.map((r) => r.recipient_id)).size).toBe(1_234);
    expect(rows.every((r) => r.priority === "low" && r.status === "queued")).toBe(true);
    expect(q.bulk.sent).toHaveLength(1_234);
    expect(q.sends.sent).toHaveLength(0);

    q.bulk.sent.splice(100); // deliver the first hundred only: the rest stay queued
    expect(await deliverBulk(q)).toBe(100);
    const p = await progress(key, c.id);
    expect(p.status).toBe("completed");
    expect(p.progress).toMatchObject({ members: 1_234, processed: 1_234, skipped: 0, targeted: 1_234, queued: 1_134, sent: 100, delivered: 100, suppressed: 0, failed: 0 });
    const one = await call("GET", `/api/communications/${rows[0]!.id}`, { key });
    expect(one.json).toMatchObject({ type: "marketing", subject: "Sale", recipientContact: "m0@example.com", recipientName: "Member 0" });
  });

  it("sends marketing email with the one-click unsubscribe headers", async () => {
    await addProvider(key, SENDGRID({ priority: 0 }));
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const c = await campaign(key, { audienceId: await audience(key, people(2)), content: "<p>Sale</p>" });
    await act(c.id, "send");
    await fanOut(q);
    await deliverBulk(q);
    expect(net.requests).toHaveLength(2);
    for (const r of net.requests) {
      const headers = JSON.parse(r.body).headers;
      expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
      expect(headers["List-Unsubscribe"]).toMatch(/^<https:\/\/herald\.test\/u\//);
    }
  });

  it("honours opt-outs and suppressions when each message is sent, not only at import", async () => {
    const list = await audience(key, people(4));
    const c = await campaign(key, { audienceId: list });
    // Opted out after joining the list, before the campaign: suppressed as it is created.
    await call("PATCH", "/api/communication-preferences/customer/m00001", { key, body: { optedOut: true } });
    // Suppressed address: caught by delivery.
    expect((await call("POST", "/api/suppressions", { key, body: { channel: "email", contact: "m2@example.com" } })).status).toBe(201);
    await act(c.id, "send");
    await fanOut(q);
    // Opted out after the campaign made their message, before it went out.
    await call("PATCH", "/api/communication-preferences/customer/m00003", { key, body: { optedOut: true } });
    await deliverBulk(q);
    const rows = await campaignRows(c.id);
    expect(Object.fromEntries(rows.map((r) => [r.recipient_id, r.status]))).toEqual({ m00000: "delivered", m00001: "suppressed", m00002: "suppressed", m00003: "suppressed" });
    expect((await progress(key, c.id)).progress).toMatchObject({ targeted: 4, delivered: 1, suppressed: 3 });
  });

  it("skips members it cannot reach and says why", async () => {
    const list = await audience(key, [...people(2), { recipientId: "nocontact" }]);
    const c = await campaign(key, { audienceId: list });
    await act(c.id, "send");
    await fanOut(q);
    const p = await progress(key, c.id);
    expect(p.progress).toMatchObject({ processed: 3, skipped: 1, targeted: 2 });
    expect(p.lastError).toMatch(/^customer\/nocontact: .*recipientContact/);
  });
});

describe("pause, resume, cancel", { timeout: 30_000 }, () => {
  it("pause stops the chain, resume continues from the cursor, cancel cancels what is still queued", async () => {
    const list = await audience(key, people(100));
    const c = await campaign(key, { audienceId: list, sendRate: 20 });
    await act(c.id, "send");
    await runChunks(q.chunks.drain().map((m) => m.body));
    expect(await campaignRows(c.id)).toHaveLength(20);
    const next = q.chunks.drain();
    expect(next).toHaveLength(1);

    expect((await act(c.id, "pause")).json.status).toBe("paused");
    await runChunks(next.map((m) => m.body)); // the chain's message arrives while paused
    expect(await campaignRows(c.id)).toHaveLength(20);
    expect(q.chunks.sent).toHaveLength(0);
    expect((await act(c.id, "pause")).status).toBe(409);

    const resumed = await act(c.id, "resume");
    expect(resumed.json.status).toBe("sending");
    expect(q.chunks.sent.map((m) => m.body.after?.recipientId)).toEqual(["m00019"]);
    await runChunks(q.chunks.drain().map((m) => m.body));
    expect(await campaignRows(c.id)).toHaveLength(40);

    await deliverBulk(q);
    q.bulk.drain();
    await runChunks(q.chunks.drain().map((m) => m.body)); // 20 more, not yet delivered
    const cancelled = await act(c.id, "cancel");
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ status: "cancelled", cancelledMessages: 20 });
    await fanOut(q);
    expect(await campaignRows(c.id)).toHaveLength(60);
    expect((await progress(key, c.id)).progress).toMatchObject({ targeted: 60, delivered: 40, cancelled: 20, queued: 0 });
    expect((await act(c.id, "resume")).status).toBe(409);
  });
});

describe("crash safety", { timeout: 30_000 }, () => {
  it("a chunk message replayed, or run twice at once, creates nothing twice", async () => {
    const list = await audience(key, people(450));
    const c = await campaign(key, { audienceId: list, sendRate: 200 });
    await act(c.id, "send");
    const [first] = q.chunks.drain();
    await Promise.all([runChunks([first!.body]), runChunks([first!.body])]);
    await runChunks([first!.body]);
    expect(await campaignRows(c.id)).toHaveLength(200);
    expect(q.chunks.sent).toHaveLength(1); // one chain goes on, not three
    await fanOut(q);
    const rows = await campaignRows(c.id);
    expect(rows).toHaveLength(450);
    expect(new Set(rows.map((r) => r.recipient_id)).size).toBe(450);
    expect(q.bulk.sent).toHaveLength(450);
  });

  it("the cron restarts a chain whose message was lost, from the cursor", async () => {
    const list = await audience(key, people(300));
    const c = await campaign(key, { audienceId: list, sendRate: 100 });
    await act(c.id, "send");
    await runChunks(q.chunks.drain().map((m) => m.body));
    const lost = q.chunks.drain(); // never delivered
    expect(lost).toHaveLength(1);
    await cron(Date.now() + 30_000); // not overdue yet (due in 60 s, plus grace)
    expect(q.chunks.sent).toHaveLength(0);
    await cron(Date.now() + 4 * 60_000);
    expect(q.chunks.sent.map((m) => m.body.after?.recipientId)).toEqual(["m00099"]);
    await fanOut(q);
    await runChunks(lost.map((m) => m.body)); // the lost one turns up after all
    const rows = await campaignRows(c.id);
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((r) => r.recipient_id)).size).toBe(300);
    expect((await progress(key, c.id)).status).toBe("completed");
  });
});

describe("throttling and scheduling", { timeout: 30_000 }, () => {
  it("paces chunks to sendRate: a minute's worth per chunk, the next delayed by what was sent", async () => {
    const list = await audience(key, people(130));
    const c = await campaign(key, { audienceId: list, sendRate: 50 });
    await act(c.id, "send");
    const ran = await fanOut(q);
    expect(ran.map((m) => m.delaySeconds ?? 0)).toEqual([0, 60, 60, 36]);
    expect(await campaignRows(c.id)).toHaveLength(130);
  });

  it("the cron starts a scheduled campaign when it is due", async () => {
    const at = Date.now() + 3_600_000;
    const c = await campaign(key, { audienceId: await audience(key, people(3)), scheduledAt: new Date(at).toISOString() });
    expect(c.status).toBe("scheduled");
    await cron(at - 60_000);
    expect(q.chunks.sent).toHaveLength(0);
    await cron(at + 1000);
    await cron(at + 2000);
    expect(q.chunks.sent).toHaveLength(1);
    expect((await progress(key, c.id)).status).toBe("sending");
    await fanOut(q);
    expect(await campaignRows(c.id)).toHaveLength(3);
  });
});

describe("validation and isolation", { timeout: 30_000 }, () => {
  it("refuses unknown audiences and templates, naming the field, and a send with no provider", async () => {
    const bad = await call("POST", "/api/campaigns", { key, body: { name: "x", audienceId: "nope", channel: "email", templateId: "nope" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors.map((e: any) => e.field).sort()).toEqual(["audienceId", "templateId"]);
    const both = await call("POST", "/api/campaigns", { key, body: { name: "x", audienceId: "a", channel: "email", content: "x" } });
    expect(both.json.errors).toEqual([{ field: "subject", message: "email needs a subject" }]);
    const sms = await campaign(key, { audienceId: await audience(key, people(1)), channel: "sms", subject: undefined, content: "hi" });
    const refused = await act(sms.id, "send");
    expect(refused.status).toBe(422);
    expect(refused.json.code).toBe("no_provider");
  });

  it("another tenant's key gets 404 for campaigns and cannot target the audience", async () => {
    const list = await audience(key, people(2));
    const c = await campaign(key, { audienceId: list });
    const other = await createTenant("Other");
    await addProvider(other.key, { channel: "email", provider: "sandbox" });
    expect((await call("GET", `/api/campaigns/${c.id}`, { key: other.key })).status).toBe(404);
    for (const action of ["send", "pause", "resume", "cancel"]) {
      expect((await call("POST", `/api/campaigns/${c.id}/${action}`, { key: other.key })).status, action).toBe(404);
    }
    expect((await call("POST", `/api/campaigns/${c.id}/winner`, { key: other.key, body: { variant: "A" } })).status).toBe(404);
    expect((await call("GET", "/api/campaigns", { key: other.key })).json.results).toEqual([]);
    const steal = await call("POST", "/api/campaigns", { key: other.key, body: { name: "x", audienceId: list, channel: "email", subject: "s", content: "x" } });
    expect(steal.status).toBe(422);
    expect(steal.json.errors).toEqual([{ field: "audienceId", message: "no such audience" }]);
    expect(q.chunks.sent).toHaveLength(0);
    expect((await call("GET", "/api/campaigns", { key })).json.count).toBe(1);
    expect(env.DB).toBeDefined();
  });
});
