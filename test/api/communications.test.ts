import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, createTenant, runDelivery, TWILIO } from "../helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;
const sms = (overrides: Record<string, unknown> = {}) => ({ channel: "sms", recipientContact: "+14155550123", content: "hello", ...overrides });

beforeEach(async () => {
  queue = captureQueue();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "sms", provider: "sandbox" });
  await addProvider(key, { channel: "email", provider: "sandbox" });
});

async function sendOne(body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status).toBe(201);
  return res.json.id as string;
}

describe("GET /api/communications", () => {
  it("lists newest first with the seed's filters and pagination", async () => {
    const a = await sendOne(sms({ type: "invoice", recipientId: "cust-1", entityType: "sale", entityId: "s-1" }));
    const b = await sendOne(sms({ type: "payment_link", recipientId: "cust-2" }));
    const c = await sendOne({ channel: "email", recipientContact: "x@y.test", subject: "s", content: "c", type: "invoice" });

    const all = await call("GET", "/api/communications", { key });
    expect(all.json).toMatchObject({ count: 3, page: 1, size: 20 });
    expect(all.json.results.map((r: { id: string }) => r.id)).toEqual([c, b, a]);

    const q = async (query: string) => (await call("GET", `/api/communications?${query}`, { key })).json.results.map((r: { id: string }) => r.id);
    expect(await q("channel=email")).toEqual([c]);
    expect(await q("type=invoice")).toEqual([c, a]);
    expect(await q("recipientId=cust-2")).toEqual([b]);
    // `recipient` searches by id or by exact contact.
    expect(await q("recipient=cust-1")).toEqual([a]);
    expect(await q(`recipient=${encodeURIComponent("+14155550123")}`)).toEqual([b, a]);
    expect(await q("recipient=x@y.test")).toEqual([c]);
    expect(await q("recipient=nobody@y.test")).toEqual([]);
    expect(await q("entityType=sale&entityId=s-1")).toEqual([a]);
    expect(await q("status=queued")).toHaveLength(3);
    expect(await q("status=delivered")).toEqual([]);
    expect(await q("startDate=2000-01-01&endDate=2000-12-31")).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await q(`startDate=${today}&endDate=${today}`)).toHaveLength(3);

    // A message a delivery attempt has claimed is stored `sending` and shown `queued`: the filter agrees.
    await env.DB.prepare("UPDATE communication SET status = 'sending' WHERE id = ?").bind(b).run();
    expect((await call("GET", `/api/communications/${b}`, { key })).json.status).toBe("queued");
    expect(await q("status=queued")).toEqual([c, b, a]);
    const internal = await call("GET", "/api/communications?status=sending", { key });
    expect(internal.status).toBe(422);
    expect(internal.json.errors[0].field).toBe("status");

    const page2 = await call("GET", "/api/communications?size=2&page=2", { key });
    expect(page2.json).toMatchObject({ count: 3, page: 2, size: 2 });
    expect(page2.json.results.map((r: { id: string }) => r.id)).toEqual([a]);
  });

  it("rejects bad filters with 422 naming the parameter", async () => {
    for (const [query, field] of [
      ["status=lost", "status"],
      ["size=1000", "size"],
      ["page=0", "page"],
      ["startDate=yesterday", "startDate"],
      ["colour=blue", "(body)"],
    ]) {
      const res = await call("GET", `/api/communications?${query}`, { key });
      expect(res.status, query).toBe(422);
      expect(res.json.errors[0].field, query).toBe(field);
    }
  });
});

describe("GET /api/communications/:id", () => {
  it("shows the detail and the timeline of what happened", async () => {
    const id = await sendOne(sms({ metadata: { orderId: "o-1" } }));
    await runDelivery(queue.drain().map((m) => m.body));
    const res = await call("GET", `/api/communications/${id}`, { key });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, status: "delivered", provider: "sandbox", metadata: { orderId: "o-1" }, retryCount: 0 });
    expect(res.json.sentAt).toBeTruthy();
    expect(res.json.deliveredAt).toBeTruthy();
    expect(res.json.events.map((e: { kind: string; status: string | null }) => `${e.kind}:${e.status ?? ""}`)).toEqual([
      "status:queued",
      "attempt:",
      "status:sent",
      "status:delivered",
    ]);
    expect(res.json.events[1]).toMatchObject({ provider: "sandbox", error: null });
    expect(typeof res.json.events[1].latencyMs).toBe("number");
  });
});

describe("POST /api/communications/:id/resend", () => {
  it("sends a copy, optionally on another channel to another contact", async () => {
    const id = await sendOne(sms());
    queue.drain();
    const same = await call("POST", `/api/communications/${id}/resend`, { key });
    expect(same.status).toBe(201);
    expect(same.json).toMatchObject({ originalCommunicationId: id, status: "queued" });
    expect(same.json.id).not.toBe(id);

    const moved = await call("POST", `/api/communications/${id}/resend`, {
      key,
      body: { channel: "email", recipientContact: "someone@example.com" },
    });
    // An SMS has no subject, so as an email it is incomplete: the caller learns which field.
    expect(moved.status).toBe(422);
    expect(moved.json.errors[0].field).toBe("subject");

    const otherNumber = await call("POST", `/api/communications/${id}/resend`, { key, body: { recipientContact: "+442071234567" } });
    expect(otherNumber.status).toBe(201);
    const detail = await call("GET", `/api/communications/${otherNumber.json.id}`, { key });
    expect(detail.json).toMatchObject({ recipientContact: "+442071234567", originalCommunicationId: id, content: "hello" });
    expect(queue.sent).toHaveLength(2);
  });

  it("validates the overrides", async () => {
    const id = await sendOne(sms());
    const bad = await call("POST", `/api/communications/${id}/resend`, { key, body: { recipientContact: "nope" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("recipientContact");
    const noProvider = await call("POST", `/api/communications/${id}/resend`, { key, body: { channel: "whatsapp" } });
    expect(noProvider.status).toBe(422);
    expect(noProvider.json.code).toBe("no_provider");
  });
});

describe("POST /api/communications/:id/cancel", () => {
  it("cancels a scheduled send, which then never reaches a provider", async () => {
    const id = await sendOne(sms({ scheduledAt: new Date(Date.now() + 60_000).toISOString() }));
    const res = await call("POST", `/api/communications/${id}/cancel`, { key });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "cancelled" });
    expect(res.json.cancelledAt).toBeTruthy();

    const { result } = await runDelivery(queue.drain().map((m) => m.body));
    expect(result.explicitAcks).toHaveLength(1);
    const detail = await call("GET", `/api/communications/${id}`, { key });
    expect(detail.json.status).toBe("cancelled");
    expect(detail.json.events.at(-1)).toMatchObject({ kind: "status", status: "cancelled" });
  });

  it("refuses to cancel what was already sent", async () => {
    const id = await sendOne(sms());
    await runDelivery(queue.drain().map((m) => m.body));
    const res = await call("POST", `/api/communications/${id}/cancel`, { key });
    expect(res.status).toBe(409);
    expect(res.json.detail).toMatch(/delivered communication cannot be cancelled/);
  });
});

describe("tenant isolation", () => {
  it("answers another tenant's ids exactly like ids that do not exist", async () => {
    const id = await sendOne(sms());
    const other = await createTenant("Other");
    await addProvider(other.key, { channel: "sms", provider: "sandbox" });
    const routes: [string, string][] = [
      ["GET", `/api/communications/${id}`],
      ["POST", `/api/communications/${id}/resend`],
      ["POST", `/api/communications/${id}/cancel`],
    ];
    for (const [method, path] of routes) {
      const theirs = await call(method, path, { key: other.key });
      const missing = await call(method, path.replace(id, "00000000-0000-7000-8000-000000000000"), { key: other.key });
      expect(theirs.status, path).toBe(404);
      expect(theirs.json.detail).toBe(missing.json.detail);
    }
    expect((await call("GET", "/api/communications", { key: other.key })).json.count).toBe(0);
    expect((await call("GET", `/api/communications/${id}`, { key })).json.status).toBe("queued");
  });
});
