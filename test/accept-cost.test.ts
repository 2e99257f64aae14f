/**
 * What accepting a send costs once the caches are warm (issue 18): one D1 round trip (the store
 * batch), one call to the tenant's limiter object (admitSend) and one queue send, with or without
 * a template or an Idempotency-Key. The Worker runs on an env whose D1, limiter and queue
 * bindings count what goes through them. And the price of the caches: how fast a change is seen,
 * in the isolate that made it (at once) and elsewhere (after the snapshot's TTL).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { database } from "../src/db/client";
import { tenantConfigCache } from "../src/cache/tenant-config";
import { cachedTemplateVersion } from "../src/cache/template-versions";
import { handleEvents } from "../src/pipeline/event-batch";
import { readConfig } from "../src/env";
import { ADMIN, BASE, createTenant } from "./helpers";

type Counts = { roundTrips: number; statements: number; doCalls: string[]; queueSends: number };

/** D1 as the app sees it, counting round trips: each batch is one, as is each lone statement. */
function countingD1(d1: D1Database, counts: Counts): D1Database {
  const watch = (stmt: D1PreparedStatement): D1PreparedStatement => {
    for (const m of ["first", "all", "run", "raw"] as const) {
      const real = stmt[m].bind(stmt) as (...a: unknown[]) => Promise<unknown>;
      (stmt as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        counts.roundTrips++;
        counts.statements++;
        return real(...a);
      };
    }
    const bind = stmt.bind.bind(stmt);
    stmt.bind = (...values: unknown[]) => watch(bind(...values));
    return stmt;
  };
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => watch(target.prepare(sql));
      // API requests run in a D1 session (src/api/middleware/d1-session.ts): count through it.
      if (prop === "withSession")
        return (constraint?: string) => countingD1(target.withSession(constraint) as unknown as D1Database, counts);
      if (prop === "batch")
        return (stmts: D1PreparedStatement[]) => {
          counts.roundTrips++;
          counts.statements += stmts.length;
          return target.batch(stmts);
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** A Durable Object namespace whose stubs count the RPC methods called on them. */
function countingNamespace<T extends DurableObjectNamespace<any>>(ns: T, counts: Counts): T {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "getByName")
        return (name: string) => {
          const stub = (target as DurableObjectNamespace).getByName(name) as object;
          return new Proxy(stub, {
            get(s, method) {
              if (method === "then" || typeof method !== "string") return undefined;
              return (...args: unknown[]) => {
                counts.doCalls.push(method);
                return (s as any)[method](...args);
              };
            },
          });
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

function countingQueue<T>(q: Queue<T>, counts: Counts): Queue<T> {
  return {
    send: (...a: Parameters<Queue<T>["send"]>) => (counts.queueSends++, q.send(...a)),
    sendBatch: (...a: Parameters<Queue<T>["sendBatch"]>) => (counts.queueSends++, q.sendBatch(...a)),
  } as Queue<T>;
}

function counted(): { env: Env; counts: Counts } {
  const counts: Counts = { roundTrips: 0, statements: 0, doCalls: [], queueSends: 0 };
  const base = env as Env;
  return {
    counts,
    env: {
      ...base,
      DB: countingD1(base.DB, counts),
      LIMITER: countingNamespace(base.LIMITER, counts),
      INBOX: countingNamespace(base.INBOX, counts),
      SEND_QUEUE: countingQueue(base.SEND_QUEUE, counts),
      EVENT_QUEUE: countingQueue(base.EVENT_QUEUE, counts),
      AUTOMATION_QUEUE: countingQueue(base.AUTOMATION_QUEUE, counts),
      BULK_QUEUE: countingQueue(base.BULK_QUEUE, counts),
      CAMPAIGN_QUEUE: countingQueue(base.CAMPAIGN_QUEUE, counts),
    },
  };
}

/** One request through the Worker's own fetch, on a counting env; waits for its waitUntil work too. */
async function request(method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const { env: e, counts } = counted();
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    new Request(`${BASE}${path}`, {
      method,
      headers: { ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}), ...(opts.body ? { "content-type": "application/json" } : {}), ...opts.headers },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }) as Request<unknown, IncomingRequestCfProperties>,
    e,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers, counts };
}

const email = (i = 0) => ({ channel: "email", recipientContact: `user${i}@example.com`, subject: "Hi", content: "Hello" });
const sandbox = { channel: "email", provider: "sandbox", priority: 1, credentials: {}, settings: {} };

let tenantId: string;
let key: string;
const send = (body: unknown, headers?: Record<string, string>) => request("POST", "/api/communications/send", { key, body, headers });
/**
 * Steady state: the first send loads the tenant's snapshot, which has seen the version the
 * provider's creation moved to; the key, remembered at the older one, is read once more.
 */
async function warm() {
  for (const i of [100, 101]) expect((await send(email(i))).status).toBe(201);
}

beforeEach(async () => {
  tenantConfigCache.clear();
  ({ tenantId, key } = await createTenant());
  expect((await request("POST", "/api/providers", { key, body: sandbox })).status).toBe(201);
});

describe("accepting one send with warm caches", () => {
  it("costs one D1 round trip, one limiter call and one queue send", async () => {
    await warm();
    const warmed = await send(email(1));
    expect(warmed.status).toBe(201);
    expect(warmed.counts).toMatchObject({ roundTrips: 1, doCalls: ["admitSend"], queueSends: 1 });
  });

  it("costs the same with an Idempotency-Key, and a replay reads the stored reply", async () => {
    await warm();
    const first = await send(email(1), { "idempotency-key": "k-1" });
    expect(first.status).toBe(201);
    expect(first.counts).toMatchObject({ roundTrips: 1, doCalls: ["admitSend"], queueSends: 1 });

    const replay = await send(email(1), { "idempotency-key": "k-1" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json.id).toBe(first.json.id);
    expect(replay.counts.queueSends).toBe(0);
  });

  it("costs the same with a template", async () => {
    const t = await request("POST", "/api/communication-templates", {
      key,
      body: { name: "Welcome", code: "welcome", channel: "email", type: "welcome", subjectTemplate: "Hi {{name}}", bodyTemplate: "Hello {{name}}" },
    });
    expect(t.status).toBe(201);
    const body = { channel: "email", recipientContact: "a@example.com", templateCode: "welcome", templateVariables: { name: "Ada" } };
    await warm();
    expect((await send(body)).status).toBe(201);
    const warmed = await send(body);
    expect(warmed.status).toBe(201);
    expect(warmed.json.communication.content).toBe("Hello Ada");
    expect(warmed.counts).toMatchObject({ roundTrips: 1, doCalls: ["admitSend"], queueSends: 1 });
  });

  it("still refuses past the rate limit and the quota, each in that one call", async () => {
    const limits = (body: unknown) => request("PATCH", `/admin/tenants/${tenantId}`, { key: ADMIN, body });
    expect((await limits({ quotas: { email: 1 } })).status).toBe(200);
    expect((await send(email(0))).status).toBe(201);
    const over = await send(email(1));
    expect(over.status).toBe(429);
    expect(over.json.code).toBe("quota_exceeded");
    expect(over.counts.doCalls).toEqual(["admitSend"]);
    expect(over.headers.get("ratelimit")).toMatch(/^"api";r=\d+;t=\d+$/);

    expect((await limits({ quotas: { email: null }, rateLimit: { perSecond: 0.001, burst: 1 } })).status).toBe(200);
    expect((await send(email(2))).status).toBe(201);
    const limited = await send(email(3));
    expect(limited.status).toBe(429);
    expect(limited.json.code).toBe("rate_limited");
    expect(limited.counts).toMatchObject({ doCalls: ["admitSend"], queueSends: 0 });
  });
});

describe("Idempotency-Key, write-first", () => {
  it("lets an expired key start a new request", async () => {
    const first = await send(email(1), { "idempotency-key": "old" });
    expect(first.status).toBe(201);
    await env.DB.prepare("UPDATE idempotency_key SET created_at = ? WHERE tenant_id = ?").bind(Date.now() - 25 * 3600_000, tenantId).run();
    const again = await send(email(2), { "idempotency-key": "old" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(again.json.id).not.toBe(first.json.id);
  });

  it("replays a retry that the quota, used up by the first attempt, would refuse", async () => {
    expect((await request("PATCH", `/admin/tenants/${tenantId}`, { key: ADMIN, body: { quotas: { email: 1 } } })).status).toBe(200);
    const first = await send(email(1), { "idempotency-key": "once" });
    expect(first.status).toBe(201);
    const retry = await send(email(1), { "idempotency-key": "once" });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const usage = await request("GET", "/api/usage", { key });
    expect(usage.json.channels.find((c: { channel: string }) => c.channel === "email")).toMatchObject({ used: 1 });
  });

  it("still refuses the same key with another body", async () => {
    expect((await send(email(1), { "idempotency-key": "k" })).status).toBe(201);
    const other = await send(email(2), { "idempotency-key": "k" });
    expect(other.status).toBe(422);
    expect(other.json.code).toBe("idempotency_mismatch");
  });
});

describe("how fresh the cached config is", () => {
  const disable = (id: string) => env.DB.prepare("UPDATE provider_config SET enabled = 0, updated_at = ? WHERE id = ?").bind(Date.now(), id).run();

  it("sees a change at once in the isolate that made it", async () => {
    const providers = await request("GET", "/api/providers", { key });
    expect((await send(email(0))).status).toBe(201);
    expect((await request("PATCH", `/api/providers/${providers.json.results[0].id}`, { key, body: { enabled: false } })).status).toBe(200);
    const refused = await send(email(1));
    expect(refused.status).toBe(422);
    expect(refused.json.code).toBe("no_provider");
  });

  it("sees another isolate's change once the snapshot's TTL has passed, at the cost of one tiny query", async () => {
    const providers = await request("GET", "/api/providers", { key });
    expect((await send(email(0))).status).toBe(201);
    // Written as another isolate would: nothing forgets this isolate's snapshot, but the
    // trigger moves the tenant's config version.
    await disable(providers.json.results[0].id);
    expect((await send(email(1))).status).toBe(201); // within the TTL: the old config still holds
    await tenantConfigCache.expire();
    const refused = await send(email(2));
    expect(refused.status).toBe(422);
    expect(refused.json.code).toBe("no_provider");
    // The version check, then the reload in one batch.
    expect(refused.counts.roundTrips).toBe(2);
  });

  it("keeps a snapshot whose version did not move for one one-column query", async () => {
    await warm();
    // Delivery's writes (breaker streaks) do not move the version.
    await env.DB.prepare("UPDATE provider_config SET failure_streak = failure_streak + 1 WHERE tenant_id = ?").bind(tenantId).run();
    await tenantConfigCache.expire();
    const res = await send(email(1));
    expect(res.status).toBe(201);
    // The version check, then the store batch (the communication and its stats row).
    expect(res.counts).toMatchObject({ roundTrips: 2, statements: 3 });
  });

  it("renders a newly published template version at once", async () => {
    const t = await request("POST", "/api/communication-templates", {
      key,
      body: { name: "Welcome", code: "welcome", channel: "email", type: "welcome", subjectTemplate: "Hi", bodyTemplate: "Hello v1" },
    });
    const body = { channel: "email", recipientContact: "a@example.com", templateId: t.json.id };
    expect((await send(body)).json.communication.content).toBe("Hello v1");
    expect((await request("PATCH", `/api/communication-templates/${t.json.id}`, { key, body: { bodyTemplate: "Hello v2" } })).status).toBe(200);
    const v2 = await send(body);
    expect(v2.json.communication).toMatchObject({ content: "Hello v2", templateVersion: 2 });
  });

  it("drops a key revoked elsewhere once the snapshot has seen the newer version", async () => {
    await warm();
    await env.DB.prepare("UPDATE api_key SET revoked_at = ? WHERE tenant_id = ?").bind(Date.now(), tenantId).run();
    await tenantConfigCache.expire();
    // This request still passes on the remembered key, and refreshes the snapshot.
    expect((await send(email(1))).status).toBe(201);
    expect((await send(email(2))).status).toBe(401);
  });
});

describe("webhook fan-out", () => {
  it("reads nothing for an event of a tenant without endpoints, once the snapshot is warm", async () => {
    expect((await send(email(0))).status).toBe(201);
    const { env: e, counts } = counted();
    const deps = { db: database(e.DB), events: e.EVENT_QUEUE, config: readConfig(e), now: () => new Date() };
    const settled = await handleEvents(deps, [{ kind: "status", tenantId, communicationId: "c-1", status: "sent", at: Date.now() }]);
    expect(settled).toEqual([{ outcome: { action: "ack" } }]);
    expect(counts.roundTrips).toBe(0);
  });
});

describe("published template versions", () => {
  it("are read once per isolate: they never change", async () => {
    const t = await request("POST", "/api/communication-templates", {
      key,
      body: { name: "Welcome", code: "welcome", channel: "email", type: "welcome", subjectTemplate: "Hi", bodyTemplate: "Hello v1" },
    });
    const { env: e, counts } = counted();
    const db = database(e.DB);
    const first = await cachedTemplateVersion(db, tenantId, t.json.id, 1);
    const again = await cachedTemplateVersion(db, tenantId, t.json.id, 1);
    expect(again).toEqual(first);
    expect(first?.bodyTemplate).toBe("Hello v1");
    expect(counts.roundTrips).toBe(1);
    // Another tenant asking for the same ids gets nothing.
    expect(await cachedTemplateVersion(db, "someone-else", t.json.id, 1)).toBeUndefined();
  });
});

describe("tenant.config_version", () => {
  const version = async () =>
    (await env.DB.prepare("SELECT config_version AS v FROM tenant WHERE id = ?").bind(tenantId).first<{ v: number }>())!.v;

  it("moves with every kind of control-plane write, and not with delivery's bookkeeping", async () => {
    const moves = async (write: () => Promise<{ status: number }>, expected = 201) => {
      const before = await version();
      expect((await write()).status).toBe(expected);
      expect(await version()).toBeGreaterThan(before);
    };
    await moves(() => request("PATCH", "/api/settings", { key, body: { retentionDays: 30 } }), 200);
    await moves(() => request("POST", "/api/providers", { key, body: { ...sandbox, priority: 2 } }));
    await moves(() =>
      request("POST", "/api/communication-templates", { key, body: { name: "W", code: "w", channel: "email", type: "w", subjectTemplate: "Hi", bodyTemplate: "Hello" } }),
    );
    await moves(() => request("POST", "/api/webhooks", { key, body: { url: "https://hooks.acme.test/herald" } }));
    const keys = await request("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: "spare" } });
    expect(keys.status).toBe(201);
    await moves(() => request("DELETE", `/admin/tenants/${tenantId}/api-keys/${keys.json.id}`, { key: ADMIN }), 204);

    const before = await version();
    await env.DB.prepare("UPDATE provider_config SET failure_streak = 3, silent_streak = 1, breaker_open_until = ? WHERE tenant_id = ?").bind(Date.now(), tenantId).run();
    await env.DB.prepare("UPDATE api_key SET last_used_at = ? WHERE tenant_id = ?").bind(Date.now(), tenantId).run();
    expect(await version()).toBe(before);
  });
});
