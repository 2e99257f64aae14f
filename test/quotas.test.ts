/**
 * Monthly quotas per tenant and channel: counted when sends are accepted, refused past the quota
 * with a problem naming it and its reset, reported by GET /api/usage, and reset with the month.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CHANNELS } from "../src/domain";
import { ADMIN, addProvider, call, captureQueue, createTenant, SENDGRID, spyOnD1, TWILIO } from "./helpers";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-20T12:00:00Z"));
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
  await addProvider(key, SENDGRID());
  await addProvider(key, TWILIO());
});
afterEach(() => {
  vi.useRealTimers();
});

const setQuotas = (quotas: Record<string, number | null>) => call("PATCH", `/admin/tenants/${tenantId}`, { key: ADMIN, body: { quotas } });
const email = (i = 0) => ({ channel: "email", recipientContact: `user${i}@example.com`, subject: "Hi", content: "Hello" });
const sms = (i = 0) => ({ channel: "sms", recipientContact: `+1415555${String(i).padStart(4, "0")}`, content: "Hello" });
const send = (body: unknown, headers?: Record<string, string>) => call("POST", "/api/communications/send", { key, body, headers });
const batch = (items: unknown[]) => call("POST", "/api/communications/batch", { key, body: { items } });
const usageOf = async (channel: string) => (await call("GET", "/api/usage", { key })).json.channels.find((c: { channel: string }) => c.channel === channel);

describe("monthly quotas", () => {
  it("refuses sends past the quota, naming it and when it resets", async () => {
    await setQuotas({ email: 3 });
    for (let i = 0; i < 3; i++) expect((await send(email(i))).status).toBe(201);

    const refused = await send(email(4));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.json).toMatchObject({ code: "quota_exceeded", status: 429 });
    expect(refused.json.detail).toBe(
      "monthly email quota exceeded: 3 per month, 3 used in 2026-11, 0 left, this request needs 1; it resets at 2026-12-01T00:00:00.000Z",
    );
    // Ten and a half days to the 1st of December, in seconds.
    expect(refused.headers.get("retry-after")).toBe(String(10.5 * 24 * 3600));
    expect(queue.sent).toHaveLength(3);

    // Other channels have no quota.
    expect((await send(sms())).status).toBe(201);
    expect(await usageOf("email")).toEqual({ channel: "email", used: 3, quota: 3, remaining: 0 });
    expect(await usageOf("sms")).toEqual({ channel: "sms", used: 1, quota: null, remaining: null });
  });

  it("refuses a batch that would cross a quota as a whole, and counts nothing for it", async () => {
    await setQuotas({ sms: 5 });
    expect((await batch([sms(1), sms(2), sms(3), email(1)])).status).toBe(201);

    const over = await batch([sms(4), sms(5), sms(6)]);
    expect(over.status).toBe(429);
    expect(over.json.detail).toMatch(/monthly sms quota exceeded: 5 per month, 3 used in 2026-11, 2 left, this request needs 3/);
    expect(queue.sent).toHaveLength(4);
    expect(await usageOf("sms")).toMatchObject({ used: 3, remaining: 2 });

    expect((await batch([sms(4), sms(5)])).status).toBe(201);
    expect(await usageOf("sms")).toMatchObject({ used: 5, remaining: 0 });
    expect(await usageOf("email")).toMatchObject({ used: 1, quota: null });
  });

  it("starts again with the month", async () => {
    await setQuotas({ email: 1 });
    expect((await send(email(1))).status).toBe(201);
    expect((await send(email(2))).status).toBe(429);

    vi.setSystemTime(new Date("2026-11-30T23:59:59Z"));
    expect((await send(email(3))).status).toBe(429);
    vi.setSystemTime(new Date("2026-12-01T00:00:00Z"));
    expect((await send(email(4))).status).toBe(201);

    const usage = (await call("GET", "/api/usage", { key })).json;
    expect(usage).toMatchObject({ period: "2026-12", periodStart: "2026-12-01T00:00:00.000Z", resetsAt: "2027-01-01T00:00:00.000Z" });
    expect(usage.channels.find((c: { channel: string }) => c.channel === "email")).toEqual({ channel: "email", used: 1, quota: 1, remaining: 0 });
  });

  it("closes a channel with a quota of 0, and reopens it with null", async () => {
    await setQuotas({ sms: 0 });
    expect((await send(sms())).status).toBe(429);
    await setQuotas({ sms: null });
    expect((await send(sms())).status).toBe(201);
  });

  it("does not count an idempotent replay twice", async () => {
    await setQuotas({ email: 2 });
    const headers = { "idempotency-key": "order-42" };
    expect((await send(email(), headers)).status).toBe(201);
    const replay = await send(email(), headers);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await usageOf("email")).toMatchObject({ used: 1, remaining: 1 });
  });

  it("gives the count back when the sends could not be stored", async () => {
    await setQuotas({ email: 1 });
    const batchSpy = spyOnD1("batch").mockRejectedValueOnce(new Error("D1_ERROR: database is unavailable"));
    expect((await send(email())).status).toBe(500);
    expect(batchSpy).toHaveBeenCalled();
    expect(await usageOf("email")).toMatchObject({ used: 0, remaining: 1 });
    expect((await send(email())).status).toBe(201);
  });
});

describe("GET /api/usage", () => {
  it("shows this month's counts per channel against the quotas, and the rate limit", async () => {
    await setQuotas({ email: 50000, whatsapp: 10 });
    await send(email());
    const res = await call("GET", "/api/usage", { key });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      period: "2026-11",
      periodStart: "2026-11-01T00:00:00.000Z",
      resetsAt: "2026-12-01T00:00:00.000Z",
      channels: expect.arrayContaining([
        { channel: "email", used: 1, quota: 50000, remaining: 49999 },
        { channel: "sms", used: 0, quota: null, remaining: null },
        { channel: "whatsapp", used: 0, quota: 10, remaining: 10 },
        { channel: "messenger", used: 0, quota: null, remaining: null },
      ]),
      rateLimit: { perSecond: 100, burst: 2000 },
    });
    expect(res.json.channels.map((c: { channel: string }) => c.channel)).toEqual([...CHANNELS]);
  });

  it("is per tenant", async () => {
    await send(email());
    const other = await createTenant("Other");
    const theirs = (await call("GET", "/api/usage", { key: other.key })).json;
    expect(theirs.channels.every((c: { used: number }) => c.used === 0)).toBe(true);
  });
});
