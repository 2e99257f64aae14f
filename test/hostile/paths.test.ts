/**
 * Hostile URLs: random, encoded, traversing and very long ids on every route that takes one;
 * random query strings on every list; odd methods; forged credentials and idempotency keys.
 * A nonexistent id is a 404 problem naming the resource, never a 500.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { captureAutomation, captureEvents, captureQueue } from "../helpers";
import {
  ADMIN,
  created,
  expectWellFormed,
  fuzzTenant,
  hit,
  itLeakedNoSecret,
  nastyNumber,
  nastyString,
  NASTY,
  probe,
  providersWithSecrets,
  runs,
  show,
} from "./fuzz";

let key = "";
let tenantId = "";
let revokedKey = "";
const ids = { communication: "", provider: "", template: "", endpoint: "", inboxToken: "" };

beforeAll(async () => {
  captureQueue();
  captureEvents();
  captureAutomation();
  ({ key, tenantId } = await fuzzTenant());
  await created("POST", "/api/providers", key, { channel: "sms", provider: "sandbox" });
  await providersWithSecrets(key);
  ids.provider = (await created("POST", "/api/providers", key, { channel: "email", provider: "sandbox" })).id;
  ids.communication = (await created("POST", "/api/communications/send", key, { channel: "sms", recipientContact: "+14155550123", content: "hi" })).id;
  ids.template = (await created("POST", "/api/communication-templates", key, { name: "T", code: "t", channel: "sms", type: "t", bodyTemplate: "hi" })).id;
  ids.endpoint = (await created("POST", "/api/webhooks", key, { url: "https://hooks.acme.test/h" }, (j) => j?.secret)).id;
  ids.inboxToken = (await created("POST", "/api/inbox/tokens", key, { recipientId: "reader-1" }, (j) => j?.token)).token;
  const spare = await created("POST", `/admin/tenants/${tenantId}/api-keys`, ADMIN, { name: "revoked" }, (j) => j?.apiKey);
  revokedKey = spare.apiKey;
  expect((await hit("DELETE", `/admin/tenants/${tenantId}/api-keys/${spare.id}`, { key: ADMIN })).status).toBe(204);
});

/** Every route with an id in its path; `x` is the fuzzed segment. */
type IdRoute = { method: string; path: (x: string) => string; notFound: string; admin?: boolean; body?: unknown };
const ID_ROUTES: IdRoute[] = [
  { method: "GET", path: (x) => `/api/communications/${x}`, notFound: "communication not found" },
  { method: "POST", path: (x) => `/api/communications/${x}/resend`, notFound: "communication not found" },
  { method: "POST", path: (x) => `/api/communications/${x}/cancel`, notFound: "communication not found" },
  { method: "GET", path: (x) => `/api/providers/${x}`, notFound: "provider config not found" },
  { method: "PATCH", path: (x) => `/api/providers/${x}`, notFound: "provider config not found", body: { priority: 2 } },
  { method: "DELETE", path: (x) => `/api/providers/${x}`, notFound: "provider config not found" },
  { method: "GET", path: (x) => `/api/communication-templates/${x}`, notFound: "template not found" },
  { method: "PATCH", path: (x) => `/api/communication-templates/${x}`, notFound: "template not found", body: { name: "n" } },
  { method: "DELETE", path: (x) => `/api/communication-templates/${x}`, notFound: "template not found" },
  { method: "GET", path: (x) => `/api/communication-templates/${x}/versions`, notFound: "template not found" },
  { method: "POST", path: (x) => `/api/communication-templates/${x}/versions/1/activate`, notFound: "template not found" },
  { method: "POST", path: (x) => `/api/communication-templates/${ids.template}/versions/${x}/activate`, notFound: "template version not found" },
  { method: "POST", path: (x) => `/api/communication-templates/${x}/preview`, notFound: "template not found", body: { variables: {} } },
  { method: "GET", path: (x) => `/api/webhooks/${x}`, notFound: "webhook endpoint not found" },
  { method: "PATCH", path: (x) => `/api/webhooks/${x}`, notFound: "webhook endpoint not found", body: { enabled: true } },
  { method: "DELETE", path: (x) => `/api/webhooks/${x}`, notFound: "webhook endpoint not found" },
  { method: "GET", path: (x) => `/api/webhooks/${x}/deliveries`, notFound: "webhook endpoint not found" },
  { method: "POST", path: (x) => `/api/webhooks/${ids.endpoint}/deliveries/${x}/replay`, notFound: "webhook delivery not found" },
  { method: "POST", path: (x) => `/api/webhooks/${x}/deliveries/${x}/replay`, notFound: "webhook delivery not found" },
  { method: "POST", path: (x) => `/api/keys/${x}/rotate`, notFound: "API key not found", body: { overlapHours: 1 } },
  { method: "DELETE", path: (x) => `/api/keys/${x}`, notFound: "API key not found" },
  { method: "GET", path: (x) => `/api/events/${x}`, notFound: "event not found" },
  { method: "GET", path: (x) => `/api/triggers/${x}`, notFound: "trigger rule not found" },
  { method: "PATCH", path: (x) => `/api/triggers/${x}`, notFound: "trigger rule not found", body: { enabled: false } },
  { method: "DELETE", path: (x) => `/api/triggers/${x}`, notFound: "trigger rule not found" },
  { method: "GET", path: (x) => `/api/workflows/${x}`, notFound: "workflow not found" },
  { method: "DELETE", path: (x) => `/api/workflows/${x}`, notFound: "workflow not found" },
  { method: "GET", path: (x) => `/api/workflows/${x}/versions`, notFound: "workflow not found" },
  { method: "GET", path: (x) => `/api/workflows/${x}/runs`, notFound: "workflow not found" },
  { method: "GET", path: (x) => `/api/workflows/runs/${x}`, notFound: "workflow run not found" },
  { method: "GET", path: (x) => `/api/workflows/${x}/fanouts/${x}`, notFound: "workflow fan-out not found" },
  { method: "GET", path: (x) => `/api/reminders/${x}`, notFound: "reminder sequence not found" },
  { method: "DELETE", path: (x) => `/api/reminders/${x}`, notFound: "reminder sequence not found" },
  { method: "GET", path: (x) => `/admin/tenants/${x}`, notFound: "tenant not found", admin: true },
  { method: "PATCH", path: (x) => `/admin/tenants/${x}`, notFound: "tenant not found", admin: true, body: {} },
  { method: "POST", path: (x) => `/admin/tenants/${x}/api-keys`, notFound: "tenant not found", admin: true, body: {} },
  { method: "DELETE", path: (x) => `/admin/tenants/${x}/api-keys/${x}`, notFound: "API key not found", admin: true },
];

/** Percent-encodes any string, lone surrogates included (as U+FFFD). */
const enc = (s: string) => encodeURIComponent(s.toWellFormed());

const call = (r: IdRoute, x: string) => hit(r.method, r.path(x), { key: r.admin ? ADMIN : key, json: r.body });

/** Segments that can only name a missing resource: no dots, slashes or reserved route names. */
const plainId = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9_~-]{1,64}$/),
    fc.uuid(),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
    fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
    fc.integer({ min: 300, max: 16_000 }).map((n) => "i".repeat(n)),
  )
  .map(enc)
  .filter((s) => s !== "." && s !== ".." && !/^(stats|send|batch|presets)$/.test(s));

/** Anything at all in the segment, traversal and broken percent-encoding included. */
const wildSegment = fc.oneof(
  plainId,
  fc.constantFrom("..", ".", "%2e%2e", "%2E%2E%2F", "..%2f..%2fadmin%2ftenants", "%00", "%", "%ZZ", "%C0%AE%C0%AE", "%uD800", "x%2Fy", "x;y=1", "stats", "batch", "~", "%20", "+"),
  nastyString.map(enc),
  fc.constantFrom(...NASTY).map((s) => s.replace(/[?#]/g, "")),
);

describe("ids in paths", () => {
  it("a segment that cannot name a resource is that resource's 404, on every id route", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), plainId, async (r, x) => {
        if (r.path("V").endsWith("/versions/V/activate") && Number(decodeURIComponent(x)) === 1) return; // names the version that exists
        const a = await call(r, x);
        expectWellFormed(a, r.path(":id"));
        // A version that is not a whole number (or too long for a URL) is still that version's 404.
        expect(a.json, `${r.method} ${r.path(":id")} ${show(x.slice(0, 60))}`).toMatchObject({ status: 404, code: "not_found", detail: r.notFound });
      }),
      runs(200, 0x1d5),
    );
  }, 60_000);

  it("anything in an id segment — traversal, bad encoding, route names — gets a success or a 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), wildSegment, async (r, x) => {
        expectWellFormed(await call(r, x), r.path(":id"));
      }),
      runs(200, 0x1d6),
    );
  }, 60_000);

  it("dot segments and doubled slashes resolve to a route or a 404, never past the API key", async () => {
    for (const path of [
      "/api/communications/../../admin/tenants",
      "/api/communications/%2e%2e/%2e%2e/admin/tenants",
      "/api/communications/..%2f..%2fadmin%2ftenants",
      "//api//communications",
      "/api/communications/",
      "/api/./communications",
      "/API/COMMUNICATIONS",
      "/api/communications/x/",
      "/api/communications/x/../../providers",
    ]) {
      const anonymous = await probe("GET", path);
      expect([401, 404], path).toContain(anonymous.status);
      await probe("GET", path, { key });
    }
  });

  it("a version number of any shape is a 404 unless it names a version", async () => {
    for (const v of ["0", "-1", "1.5", "1e3", "0x1", "0x2", "Infinity", "NaN", "9007199254740993", "99999999999999999999", "1e400", " 1", "01"]) {
      const a = await probe("POST", `/api/communication-templates/${ids.template}/versions/${encodeURIComponent(v)}/activate`, { key });
      // Number() reads the segment, so " 1", "01" and "0x1" all name version 1.
      expect(a.status, v).toBe(Number(v) === 1 ? 200 : 404);
    }
  });

  it("preferences take any recipient id up to 255 characters, and refuse the rest with 422", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nastyString, fc.stringMatching(/^[a-z][a-z0-9_.-]{0,70}$/)), plainId, async (type, id) => {
        for (const suffix of ["", "/consents"]) {
          const a = await probe("GET", `/api/communication-preferences/${enc(type)}/${id}${suffix}`, { key });
          expect([200, 404, 422], a.text).toContain(a.status);
        }
      }),
      runs(80, 0x1d7),
    );
  }, 60_000);

  it("lifting a suppression with any channel and contact gets 204, 404 or 422", async () => {
    // Contacts with "%" are left out: the double-decoding regression test below covers them.
    const contact = fc.oneof(nastyString, fc.emailAddress(), fc.constantFrom("+14155550123", "whatsapp:+14155550123")).filter((s) => !s.includes("%"));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom("email", "sms", "whatsapp", "messenger", "in_app"), nastyString), contact, async (channel, c) => {
        const a = await probe("DELETE", `/api/suppressions/${enc(channel)}/${enc(c)}`, { key });
        expect([204, 404, 422], a.text).toContain(a.status);
      }),
      runs(100, 0x1d8),
    );
  }, 60_000);

  // Regression test for a fixed bug (suppression contact decoded twice): Hono already decodes `:contact`, and the route calls
  // decodeURIComponent on it again (src/api/routes/suppressions.ts), so a contact containing "%"
  // not followed by two hex digits throws URIError → 500; one containing "%40" is read as "@".
  it("DELETE /api/suppressions/email/%25 is a 4xx, not a 500", async () => {
    await probe("DELETE", "/api/suppressions/email/%25", { key });
  });

  it("a contact is decoded once: DELETE …/a%2540b.test lifts the contact a%40b.test, not a@b.test", async () => {
    await probe("POST", "/api/suppressions", { key, json: { channel: "email", contact: "a@b.test" } });
    const a = await probe("DELETE", `/api/suppressions/email/${encodeURIComponent("a%40b.test")}`, { key });
    expect(a.status).not.toBe(204);
  });
});

describe("query strings", () => {
  type ListRoute = { path: () => string; keys: string[]; strict: boolean; inbox?: true };
  const LISTS: ListRoute[] = [
    { path: () => "/api/communications", keys: ["page", "size", "channel", "status", "type", "recipientId", "entityType", "entityId", "startDate", "endDate"], strict: true },
    { path: () => "/api/communications/stats", keys: ["startDate", "endDate"], strict: true },
    { path: () => "/api/communication-templates", keys: ["channel", "type", "code", "isActive"], strict: true },
    { path: () => "/api/suppressions", keys: ["channel", "contact", "page", "size"], strict: true },
    { path: () => `/api/webhooks/${ids.endpoint}/deliveries`, keys: ["limit"], strict: true },
    { path: () => "/api/webhooks", keys: [], strict: false },
    { path: () => "/api/providers", keys: [], strict: false },
    { path: () => "/api/usage", keys: [], strict: false },
    { path: () => "/api/settings", keys: [], strict: false },
    { path: () => "/api/communication-preferences/customer/c-1", keys: [], strict: false },
    { path: () => "/api/events", keys: ["type", "entityType", "entityId", "limit"], strict: true },
    { path: () => "/api/reminders", keys: ["entityType", "entityId", "status", "limit"], strict: true },
    { path: () => "/api/triggers", keys: [], strict: false },
    { path: () => "/api/triggers/presets", keys: [], strict: false },
    { path: () => "/api/inbox/items", keys: ["token", "before", "limit", "unread", "archived"], strict: true, inbox: true },
    { path: () => "/api/inbox/counts", keys: [], strict: false, inbox: true },
  ];
  const listKey = (r: ListRoute) => (r.inbox ? ids.inboxToken : key);
  const value = fc.oneof(
    nastyString,
    nastyNumber.map(String),
    fc.constantFrom("1", "0", "-1", "100", "101", "500", "1e3", "email", "sms", "queued", "true", "false", "2026-01-01", "2026-02-30", "2026-01-01T00:00:00Z", "9999-12-31", "0000-01-01"),
  );

  it("any query gets a success or a 4xx; a parameter a strict list does not know is a 422", async () => {
    const query = fc.constantFrom(...LISTS).chain((r) =>
      fc.tuple(fc.constant(r), fc.array(fc.tuple(r.keys.length ? fc.oneof(fc.constantFrom(...r.keys), nastyString) : nastyString, value), { maxLength: 6 })),
    );
    await fc.assert(
      fc.asyncProperty(query, async ([r, pairs]) => {
        const qs = new URLSearchParams(pairs.map(([k, v]) => [k.toWellFormed(), v.toWellFormed()]));
        const a = await probe("GET", `${r.path()}?${qs}`, { key: listKey(r) });
        // An empty name is no parameter at all; a `token` value replaces the inbox token.
        if (r.inbox && qs.has("token")) return;
        const unknown = [...qs.keys()].some((k) => k !== "" && !r.keys.includes(k));
        if (r.strict && unknown) expect(a.status, a.text).toBe(422);
      }),
      runs(200, 0x9e1),
    );
  }, 60_000);

  it("raw, malformed query strings get a success or a 4xx", async () => {
    const raw = fc.array(fc.oneof(fc.constantFrom("%", "%ZZ", "%E0%A4%A", "=", "&", "&&", "==", "page", "size", "[]", "page[]=1", "a[b]=c", "+", "%00", ";"), fc.stringMatching(/^[\w%=&.+-]{0,12}$/)), { maxLength: 8 }).map((p) => p.join(""));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...LISTS), raw, async (r, q) => {
        await probe("GET", `${r.path()}?${q}`, { key: listKey(r) });
      }),
      runs(100, 0x9e2),
    );
  }, 60_000);

  it("valid filters on the communication list are always a 200", async () => {
    const day = fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
    const filters = fc.record(
      {
        page: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        size: fc.integer({ min: 1, max: 100 }),
        channel: fc.constantFrom("email", "sms", "whatsapp", "messenger", "in_app"),
        status: fc.constantFrom("scheduled", "queued", "sent", "delivered", "failed", "cancelled"),
        type: nastyString,
        recipientId: nastyString,
        entityId: nastyString,
        startDate: fc.oneof(day, day.map((d) => d.slice(0, 10))),
        endDate: fc.oneof(day, day.map((d) => d.slice(0, 10))),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(filters, async (f) => {
        const qs = new URLSearchParams(Object.entries(f).map(([k, v]) => [k, String(v).toWellFormed()]));
        const a = await probe("GET", `/api/communications?${qs}`, { key });
        expect(a.status, a.text).toBe(200);
        expect(typeof a.json.count).toBe("number");
      }),
      runs(80, 0x9e3),
    );
  }, 60_000);
});

describe("methods and credentials", () => {
  const PATHS = () => [
    "/",
    "/health",
    "/admin/tenants",
    `/admin/tenants/${tenantId}`,
    "/api/communications",
    `/api/communications/${ids.communication}`,
    "/api/communications/send",
    `/api/providers/${ids.provider}`,
    `/api/communication-templates/${ids.template}`,
    `/api/webhooks/${ids.endpoint}`,
    "/api/settings",
    "/api/usage",
    "/t/o/x.y",
    "/u/x.y",
    `/webhooks/sendgrid/${ids.provider}`,
    "/inbox/client.js",
    "/inbox/demo",
    "/api/inbox/items",
    "/api/inbox/ws",
    "/api/events",
    "/api/triggers/presets",
    "/api/reminders",
  ];

  it("any method on any route gets a success or a 4xx", async () => {
    // workerd's fetch refuses methods outside the standard set before sending.
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD");
    await fc.assert(
      fc.asyncProperty(method, fc.constantFrom(...PATHS()), fc.boolean(), async (m, path, withKey) => {
        const a = await hit(m, path, { key: withKey ? key : undefined, raw: m === "GET" || m === "HEAD" ? undefined : "{}" });
        if (m === "HEAD") expect(a.status).toBeLessThan(500);
        else expectWellFormed(a, m);
      }),
      runs(120, 0xe7),
    );
  }, 60_000);

  // Printable ASCII: anything else is re-encoded by the test client, not sent as given.
  const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 });

  it("a forged, mangled or revoked API key is a 401 problem", async () => {
    const forged = fc.oneof(
      headerValue.map((v) => `Bearer ${v}`),
      headerValue,
      fc.constantFrom(`Basic ${btoa("a:b")}`, `Bearer ${ADMIN}`, "Bearer", "Bearer ", "bearer  ", "Bearer a b", "Token x"),
      fc.nat().map((i) => `Bearer ${key.slice(0, i % key.length)}`),
      fc.tuple(fc.nat(), fc.constantFrom("x", "A", "-", "_", "=")).map(([i, c]) => {
        const at = i % key.length;
        const mutated = key.slice(0, at) + (key[at] === c ? "y" : c) + key.slice(at + 1);
        return `Bearer ${mutated}`;
      }),
      fc.constant(`Bearer ${revokedKey}`),
      fc.constant(`Bearer ${key.toUpperCase()}`),
    );
    await fc.assert(
      fc.asyncProperty(forged, fc.constantFrom("/api/communications", "/api/providers", "/api/usage", `/api/communications/${ids.communication}`), async (auth, path) => {
        const a = await probe("GET", path, { headers: { authorization: auth } });
        expect(a.status, auth).toBe(401);
        expect(["missing API key: send Authorization: Bearer <apiKey>", "invalid or revoked API key"]).toContain(a.json.detail);
      }),
      runs(120, 0xa7),
    );
  }, 60_000);

  it("the admin API takes only the admin token", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(headerValue, fc.constant(key), fc.constant(ADMIN.toUpperCase()), fc.constant(`${ADMIN} `), fc.constant(ADMIN.slice(0, -1))), async (token) => {
        const a = await probe("GET", `/admin/tenants/${tenantId}`, { headers: { authorization: `Bearer ${token}` } });
        expect(a.status).toBe(token.trim() === ADMIN ? 200 : 401);
      }),
      runs(60, 0xa8),
    );
  }, 60_000);

  it("any Idempotency-Key gets a success or a 4xx; a reused key replays or refuses, never sends twice", async () => {
    const idemKey = fc.oneof(headerValue, fc.integer({ min: 250, max: 400 }).map((n) => "k".repeat(n)), fc.uuid());
    await fc.assert(
      fc.asyncProperty(idemKey, async (k) => {
        const body = { channel: "sms", recipientContact: "+14155550123", content: "first" };
        const first = await probe("POST", "/api/communications/send", { key, json: body, headers: { "idempotency-key": k } });
        // Headers arrive trimmed; Herald takes 1–255 characters.
        const trimmed = k.replace(/^[\t ]+|[\t ]+$/g, "");
        if (trimmed.length === 0 || trimmed.length > 255) {
          expect(first.status, first.text).toBe(422);
          return;
        }
        expect(first.status, first.text).toBe(201);
        const again = await probe("POST", "/api/communications/send", { key, json: body, headers: { "idempotency-key": k } });
        expect(again.status).toBe(201);
        expect(again.json.id).toBe(first.json.id);
        expect(again.headers.get("idempotent-replayed")).toBe("true");
        const other = await probe("POST", "/api/communications/send", { key, json: { ...body, content: "second" }, headers: { "idempotency-key": k } });
        expect(other.json).toMatchObject({ status: 422, code: "idempotency_mismatch" });
      }),
      runs(40, 0x1de),
    );
  }, 60_000);
});

itLeakedNoSecret();
