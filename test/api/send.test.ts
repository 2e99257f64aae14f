import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, createTenant, SENDGRID, TWILIO } from "../helpers";

const email = (overrides: Record<string, unknown> = {}) => ({
  channel: "email",
  type: "invoice",
  recipientType: "customer",
  recipientId: "cust-1",
  recipientName: "John Doe",
  recipientContact: "John@Example.com",
  subject: "Your Invoice #1234",
  content: "<p>Dear John, your invoice is attached.</p>",
  entityType: "sale",
  entityId: "sale-1",
  ...overrides,
});

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  queue = captureQueue();
  ({ key } = await createTenant());
  await addProvider(key, SENDGRID());
  await addProvider(key, TWILIO());
});

describe("POST /api/communications/send", () => {
  it("records the communication, enqueues it, and answers 201 queued", async () => {
    const res = await call("POST", "/api/communications/send", { key, body: email() });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: "queued", communication: { channel: "email", type: "invoice", recipientContact: "john@example.com", entityType: "sale" } });
    expect(Date.parse(res.json.estimatedSendTime)).not.toBeNaN();
    expect(queue.sent).toEqual([{ body: expect.objectContaining({ communicationId: res.json.id }), delaySeconds: 0 }]);

    const row = await env.DB.prepare("SELECT status, channel FROM communication WHERE id = ?").bind(res.json.id).first();
    expect(row).toEqual({ status: "queued", channel: "email" });
  });

  it("normalises phone numbers for SMS", async () => {
    const res = await call("POST", "/api/communications/send", {
      key,
      body: { channel: "sms", type: "payment_link", recipientContact: "+1 (415) 555-0123", content: "Pay here: https://pay.test/x" },
    });
    expect(res.status).toBe(201);
    expect(res.json.communication.recipientContact).toBe("+14155550123");
  });

  it.each([
    ["a malformed email", email({ recipientContact: "not-an-email" }), "recipientContact"],
    ["a phone without country code", { channel: "sms", recipientContact: "4155550123", content: "hi" }, "recipientContact"],
    ["a whatsapp number with letters", { channel: "whatsapp", recipientContact: "+1415abc", content: "hi" }, "recipientContact"],
    ["no content and no template", email({ content: undefined }), "content"],
    ["email without subject", email({ subject: undefined }), "subject"],
    ["a subject with a header injection", email({ subject: "Hi\r\nBcc: victim@example.com" }), "subject"],
    ["an unknown channel", email({ channel: "pager" }), "channel"],
    ["an unknown field", email({ sendNow: true }), "(body)"],
    ["a bad priority", email({ priority: "asap" }), "priority"],
    ["a bad scheduledAt", email({ scheduledAt: "tomorrow" }), "scheduledAt"],
    ["an SMS longer than Twilio allows", { channel: "sms", recipientContact: "+14155550123", content: "x".repeat(1601) }, "content"],
    ["an attachment with neither url nor content", email({ attachments: [{ filename: "a.pdf" }] }), "attachments.0"],
    ["an attachment over plain http", email({ attachments: [{ filename: "a.pdf", fileUrl: "http://files.test/a.pdf" }] }), "attachments.0.fileUrl"],
    ["an attachment on a private address", email({ attachments: [{ filename: "a.pdf", fileUrl: "https://169.254.169.254/latest/meta-data" }] }), "attachments.0.fileUrl"],
    ["an attachment on localhost", email({ attachments: [{ filename: "a.pdf", fileUrl: "https://localhost/a.pdf" }] }), "attachments.0.fileUrl"],
  ])("rejects %s with 422 naming the field", async (_, body, field) => {
    const res = await call("POST", "/api/communications/send", { key, body });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.json.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(queue.sent).toHaveLength(0);
  });

  it("rejects a body that is not an object", async () => {
    for (const body of ["[]", "null", "42", "{bad json"]) {
      const res = await call("POST", "/api/communications/send", { key, body });
      expect([400, 422]).toContain(res.status);
    }
  });

  it("refuses a channel with no configured provider with 422", async () => {
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "messenger", recipientContact: "1234567890", content: "hi" } });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe("no_provider");
    expect(res.json.errors[0].field).toBe("channel");
  });

  it("schedules future sends and enqueues them with a delay", async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    const res = await call("POST", "/api/communications/send", { key, body: email({ scheduledAt: at }) });
    expect(res.status).toBe(201);
    expect(res.json.status).toBe("scheduled");
    expect(res.json.estimatedSendTime).toBe(at);
    expect(queue.sent[0]!.delaySeconds).toBeGreaterThan(3590);
    expect(queue.sent[0]!.delaySeconds).toBeLessThanOrEqual(3600);
  });

  it("caps the queue delay of far-future sends at 12 hours", async () => {
    const at = new Date(Date.now() + 3 * 86400_000).toISOString();
    const res = await call("POST", "/api/communications/send", { key, body: email({ scheduledAt: at }) });
    expect(res.json.status).toBe("scheduled");
    expect(queue.sent[0]!.delaySeconds).toBe(12 * 3600);
  });

  it("treats a scheduledAt in the past as now", async () => {
    const res = await call("POST", "/api/communications/send", { key, body: email({ scheduledAt: "2020-01-01T00:00:00Z" }) });
    expect(res.json.status).toBe("queued");
    expect(queue.sent[0]!.delaySeconds).toBe(0);
  });
});

describe("Idempotency-Key", () => {
  it("replays the first response for the same key and body, sending once", async () => {
    const headers = { "idempotency-key": "order-42" };
    const first = await call("POST", "/api/communications/send", { key, body: email(), headers });
    const second = await call("POST", "/api/communications/send", { key, body: email(), headers });
    expect(second.status).toBe(201);
    expect(second.json).toEqual(first.json);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(queue.sent).toHaveLength(1);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM communication WHERE id = ?").bind(first.json.id).first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it("refuses the same key with a different body", async () => {
    const headers = { "idempotency-key": "order-43" };
    await call("POST", "/api/communications/send", { key, body: email(), headers });
    const other = await call("POST", "/api/communications/send", { key, body: email({ subject: "Another" }), headers });
    expect(other.status).toBe(422);
    expect(other.json.code).toBe("idempotency_mismatch");
    expect(queue.sent).toHaveLength(1);
  });

  it("sends once when two copies race", async () => {
    const headers = { "idempotency-key": "race-1" };
    const [a, b] = await Promise.all([
      call("POST", "/api/communications/send", { key, body: email(), headers }),
      call("POST", "/api/communications/send", { key, body: email(), headers }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.json.id).toBe(b.json.id);
    expect(queue.sent).toHaveLength(1);
  });

  it("expires a key after 24 hours: the same key then starts a new send", async () => {
    const headers = { "idempotency-key": "order-44" };
    const first = await call("POST", "/api/communications/send", { key, body: email(), headers });
    await env.DB.prepare("UPDATE idempotency_key SET created_at = ?1 WHERE key = 'order-44'").bind(Date.now() - 25 * 3600_000).run();
    // Even with a different body: the old record no longer binds the key.
    const again = await call("POST", "/api/communications/send", { key, body: email({ subject: "Another" }), headers });
    expect(again.status).toBe(201);
    expect(again.json.id).not.toBe(first.json.id);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    const replay = await call("POST", "/api/communications/send", { key, body: email({ subject: "Another" }), headers });
    expect(replay.json.id).toBe(again.json.id);
    expect(queue.sent).toHaveLength(2);
  });

  it("has the cron pass delete expired keys and keep fresh ones", async () => {
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import("cloudflare:test");
    const api = (await import("../../src/index")).default;
    await call("POST", "/api/communications/send", { key, body: email(), headers: { "idempotency-key": "old-1" } });
    await call("POST", "/api/communications/send", { key, body: email(), headers: { "idempotency-key": "fresh-1" } });
    await env.DB.prepare("UPDATE idempotency_key SET created_at = ?1 WHERE key = 'old-1'").bind(Date.now() - 25 * 3600_000).run();
    const ctx = createExecutionContext();
    await api.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const { results } = await env.DB.prepare("SELECT key FROM idempotency_key WHERE key IN ('old-1', 'fresh-1')").all<{ key: string }>();
    expect(results.map((r) => r.key)).toEqual(["fresh-1"]);
  });

  it("scopes keys per tenant", async () => {
    const other = await createTenant("Other");
    await addProvider(other.key, SENDGRID());
    const headers = { "idempotency-key": "shared-key" };
    const a = await call("POST", "/api/communications/send", { key, body: email(), headers });
    const b = await call("POST", "/api/communications/send", { key: other.key, body: email(), headers });
    expect(b.status).toBe(201);
    expect(b.json.id).not.toBe(a.json.id);
  });
});

describe("POST /api/communications/batch", () => {
  it("accepts the good items and reports the bad ones by index", async () => {
    const res = await call("POST", "/api/communications/batch", {
      key,
      body: {
        items: [
          email(),
          email({ recipientContact: "broken" }),
          { channel: "sms", recipientContact: "+14155550123", content: "hi" },
          { channel: "messenger", recipientContact: "1234567890", content: "no provider" },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ accepted: 2, rejected: 2 });
    expect(res.json.results.map((r: { index: number }) => r.index)).toEqual([0, 1, 2, 3]);
    expect(res.json.results[0]).toMatchObject({ status: "queued" });
    expect(res.json.results[1].error.errors[0].field).toBe("items.1.recipientContact");
    expect(res.json.results[3].error.code).toBe("no_provider");
    expect(queue.sent.map((m) => m.body.communicationId)).toEqual([res.json.results[0].id, res.json.results[2].id]);
  });

  it("takes 1,000 items in one call, written with D1 batches and sendBatch", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ channel: "sms", recipientContact: `+1415555${String(i).padStart(4, "0")}`, content: `n${i}` }));
    const res = await call("POST", "/api/communications/batch", { key, body: { items } });
    expect(res.status).toBe(201);
    expect(res.json.accepted).toBe(1000);
    expect(queue.sent).toHaveLength(1000);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM communication WHERE content LIKE 'n%'").first<{ n: number }>())!;
    expect(n).toBe(1000);
  });

  it("refuses more than 1,000 items, and a batch with nothing acceptable", async () => {
    const tooMany = await call("POST", "/api/communications/batch", { key, body: { items: Array.from({ length: 1001 }, () => email()) } });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors[0].field).toBe("items");
    const allBad = await call("POST", "/api/communications/batch", { key, body: { items: [email({ channel: "fax" })] } });
    expect(allBad.status).toBe(422);
    expect(allBad.json.errors[0].field).toBe("items.0.channel");
    expect(queue.sent).toHaveLength(0);
  });
});
