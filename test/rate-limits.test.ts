/**
 * API ingress limits: the per-tenant token bucket in front of /api, its headers, batch
 * accounting, the admin API that sets it, exactness under concurrency and isolation between
 * tenants. The clock is Date, faked, which the limiter object shares with the test.
 */
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CHANNELS } from "../src/domain";
import type { TenantLimiter } from "../src/durable/tenant-limiter";
import { ADMIN, addProvider, BASE, call, captureQueue, createTenant, SENDGRID } from "./helpers";

let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  captureQueue();
  ({ key, tenantId } = await createTenant());
});
afterEach(() => {
  vi.useRealTimers();
});

const setLimits = (id: string, body: unknown) => call("PATCH", `/admin/tenants/${id}`, { key: ADMIN, body });
const email = (i = 0) => ({ channel: "email", recipientContact: `user${i}@example.com`, subject: "Hi", content: "Hello" });
const batch = (n: number) => call("POST", "/api/communications/batch", { key, body: { items: Array.from({ length: n }, (_, i) => email(i)) } });
const usage = (k = key) => call("GET", "/api/usage", { key: k });
/** Every channel uncapped, except those given. */
const quotas = (caps: Record<string, number> = {}) => ({ ...Object.fromEntries(CHANNELS.map((c) => [c, null])), ...caps });

/** Freezes Date (the test's and the limiter object's) at `iso`; returns a way to move it on. */
function freezeClock(iso = "2026-11-20T12:00:00Z") {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(iso));
  return (ms: number) => vi.setSystemTime(new Date(Date.now() + ms));
}

describe("the API bucket", () => {
  it("admits exactly 50 of 200 concurrent requests against a bucket of 50", async () => {
    // A rate this slow refills nothing while the 200 requests run, whatever the machine's speed.
    expect((await setLimits(tenantId, { rateLimit: { perSecond: 0.001, burst: 50 } })).status).toBe(200);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () => exports.default.fetch(`${BASE}/api/usage`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 429)).toHaveLength(150);
  });

  it("is exact at the object too: 200 concurrent takes from a bucket of 50", async () => {
    const stub = env.LIMITER.getByName("exactness");
    await stub.configure({ rateLimit: { perSecond: 0.001, burst: 50 } });
    const results = await Promise.all(Array.from({ length: 200 }, () => stub.takeApi(1)));
    expect(results.filter((r) => r.ok)).toHaveLength(50);
    expect(results.filter((r) => r.ok).map((r) => r.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("shows where the client stands on 2xx and on 429, with Retry-After and problem+json", async () => {
    freezeClock();
    await setLimits(tenantId, { rateLimit: { perSecond: 0.5, burst: 2 } });
    const first = await usage();
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"api";q=2;w=4');
    expect(first.headers.get("ratelimit")).toBe('"api";r=1;t=2');
    expect(first.headers.get("retry-after")).toBeNull();

    const second = await usage();
    expect(second.headers.get("ratelimit")).toBe('"api";r=0;t=4');

    const refused = await usage();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(refused.headers.get("ratelimit-policy")).toBe('"api";q=2;w=4');
    expect(refused.headers.get("ratelimit")).toBe('"api";r=0;t=4');
    expect(refused.json).toMatchObject({ status: 429, code: "rate_limited", requestId: expect.any(String) });
    expect(refused.json.detail).toMatch(/0\.5 requests per second, bursts of 2/);
  });

  it("carries the headers on errors other than 429 too", async () => {
    const res = await call("GET", "/api/communications/not-a-real-id", { key });
    expect(res.status).toBe(404);
    expect(res.headers.get("ratelimit")).toMatch(/^"api";r=\d+;t=\d+$/);
  });

  it("refills over time", async () => {
    const advance = freezeClock();
    await setLimits(tenantId, { rateLimit: { perSecond: 2, burst: 4 } });
    const statuses = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await usage()).status);
      return out;
    };
    expect(await statuses(5)).toEqual([200, 200, 200, 200, 429]);
    advance(499);
    expect(await statuses(1)).toEqual([429]);
    advance(1);
    expect(await statuses(2)).toEqual([200, 429]);
    advance(1000);
    expect(await statuses(3)).toEqual([200, 200, 429]);
    advance(60_000); // a long pause fills the bucket, and no further
    expect(await statuses(5)).toEqual([200, 200, 200, 200, 429]);
  });

  it("charges a batch one token per item", async () => {
    freezeClock();
    await addProvider(key, SENDGRID());
    await setLimits(tenantId, { rateLimit: { perSecond: 0.01, burst: 10 } });

    const six = await batch(6);
    expect(six.status).toBe(201);
    expect(six.headers.get("ratelimit")).toBe('"api";r=4;t=600');

    const five = await batch(5);
    expect(five.status).toBe(429);
    expect(five.json.detail).toMatch(/these 5 items fit in 100 s/);
    expect(five.headers.get("retry-after")).toBe("100");

    // Items the route then refuses still cost their token: the work of reading them was done.
    const four = await call("POST", "/api/communications/batch", { key, body: { items: [email(1), email(2), { channel: "fax" }, email(3)] } });
    expect(four.status).toBe(201);
    expect(four.json).toMatchObject({ accepted: 3, rejected: 1 });
    expect(four.headers.get("ratelimit")).toBe('"api";r=0;t=1000');
  });

  it("refuses a batch larger than the burst outright: waiting would not help", async () => {
    await setLimits(tenantId, { rateLimit: { perSecond: 1, burst: 5 } });
    const res = await batch(6);
    expect(res.status).toBe(422);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(res.json.errors).toEqual([{ field: "items", message: "send at most 5 items per batch" }]);
    // Nothing was taken.
    expect((await usage()).headers.get("ratelimit")).toBe('"api";r=4;t=1');
  });

  it("isolates tenants: one tenant's empty bucket leaves another's untouched", async () => {
    const other = await createTenant("Other");
    await setLimits(tenantId, { rateLimit: { perSecond: 0.001, burst: 3 } });
    const mine = await Promise.all(Array.from({ length: 10 }, () => usage()));
    expect(mine.filter((r) => r.status === 429)).toHaveLength(7);

    const theirs = await usage(other.key);
    expect(theirs.status).toBe(200);
    expect(theirs.headers.get("ratelimit-policy")).toBe('"api";q=2000;w=20');
    expect(theirs.headers.get("ratelimit")).toMatch(/^"api";r=1999;t=\d+$/);
  });

  it("keeps its counts in memory and writes them behind within a second; settings at once", async () => {
    freezeClock();
    await setLimits(tenantId, { rateLimit: { perSecond: 1, burst: 10 } });
    await usage();
    await usage();
    const stub = env.LIMITER.getByName(tenantId);
    const stored = (sql: string) => runInDurableObject(stub, (_instance: TenantLimiter, state) => state.storage.sql.exec(sql).toArray()[0]);
    expect(JSON.parse((await stored("SELECT value FROM setting WHERE name = 'rateLimit'"))!.value as string)).toEqual({ perSecond: 1, burst: 10 });
    expect(await stored("SELECT tokens FROM bucket WHERE name = 'api'")).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await stored("SELECT tokens FROM bucket WHERE name = 'api'")).toEqual({ tokens: 8 });
  });
});

describe("PATCH /admin/tenants/:id", () => {
  it("changes the limits at once and GET shows them", async () => {
    freezeClock();
    const before = await call("GET", `/admin/tenants/${tenantId}`, { key: ADMIN });
    expect(before.json.limits).toEqual({
      rateLimit: { perSecond: 100, burst: 2000 },
      quotas: quotas(),
    });

    const res = await setLimits(tenantId, { rateLimit: { perSecond: 1, burst: 1 }, quotas: { email: 50000 } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      tenantId,
      limits: { rateLimit: { perSecond: 1, burst: 1 }, quotas: quotas({ email: 50000 }) },
    });
    // The very next requests see the new bucket of one.
    expect((await usage()).status).toBe(200);
    expect((await usage()).status).toBe(429);

    // null: back to the default rate limit, and no cap on email.
    const reset = await setLimits(tenantId, { rateLimit: null, quotas: { email: null } });
    expect(reset.json.limits).toEqual({ rateLimit: { perSecond: 100, burst: 2000 }, quotas: quotas() });
    expect((await call("GET", `/admin/tenants/${tenantId}`, { key: ADMIN })).json.limits).toEqual(reset.json.limits);
  });

  it("validates the body, needs the admin token and 404s an unknown tenant", async () => {
    const bad = await setLimits(tenantId, { rateLimit: { perSecond: 0, burst: 1.5 }, quotas: { fax: 3 } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(["quotas", "rateLimit.burst", "rateLimit.perSecond"]);
    expect(bad.json.errors).toContainEqual({ field: "quotas", message: "unknown field(s): fax" });
    expect((await call("PATCH", `/admin/tenants/${tenantId}`, { key, body: { rateLimit: null } })).status).toBe(401);
    expect((await setLimits("no-such-tenant", { rateLimit: null })).status).toBe(404);
  });
});
