/**
 * The token routes — open pixel `/t/o/:token`, click redirect `/t/c/:token`, one-click unsubscribe
 * `/u/:token`, and the in-app inbox (`/api/inbox/*`, a recipient JWT) — take no API key: the signed
 * token is the credential. Random, forged and mutated tokens must be a 404 (links) or 401 (inbox)
 * problem that changes nothing, and a redirect only ever goes where Herald signed it to.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { captureEvents, captureQueue, testEnv } from "../helpers";
import { base64urlEncode as base64url } from "../../src/lib/base64";
import { addTracking, signToken, type TrackingToken } from "../../src/pipeline/tracking-links";
import { mintInboxToken } from "../../src/inbox/token";
import { created, fuzzTenant, hit, itLeakedNoSecret, nastyString, probe, runs, show } from "./fuzz";

const SECRET = testEnv.ENCRYPTION_KEY!;
const DESTINATION = "https://acme.test/welcome?utm=herald";
const OTHER_SECRET = btoa("another-32-byte-key-for-signing!");

let key = "";
let tenantId = "";
let communication = "";
const real = { o: "", c: "", u: "" };

beforeAll(async () => {
  captureQueue();
  captureEvents();
  ({ key, tenantId } = await fuzzTenant());
  await created("POST", "/api/providers", key, { channel: "email", provider: "sandbox" });
  communication = (await created("POST", "/api/communications/send", key, {
    channel: "email",
    type: "newsletter",
    recipientId: "reader-1",
    recipientContact: "reader@acme.test",
    subject: "News",
    content: "<p>Hi</p>",
  })).id;
  real.o = await signToken(SECRET, { k: "o", t: tenantId, c: communication });
  real.c = await signToken(SECRET, { k: "c", t: tenantId, c: communication, u: DESTINATION });
  real.u = await signToken(SECRET, { k: "u", t: tenantId, c: communication });
});

type TokenRoute = { method: string; prefix: string; notFound: string };
const ROUTES: TokenRoute[] = [
  { method: "GET", prefix: "/t/o/", notFound: "tracking link not found" },
  { method: "GET", prefix: "/t/c/", notFound: "tracking link not found" },
  { method: "GET", prefix: "/u/", notFound: "unsubscribe link not found" },
  { method: "POST", prefix: "/u/", notFound: "unsubscribe link not found" },
];
const realFor = (r: TokenRoute) => (r.prefix === "/t/o/" ? real.o : r.prefix === "/t/c/" ? real.c : real.u);

const enc = (s: string) => encodeURIComponent(s.toWellFormed());
const b64 = (s: string) => base64url(new TextEncoder().encode(s));

async function expectRefused(r: TokenRoute, token: string) {
  const a = await probe(r.method, `${r.prefix}${enc(token)}`, r.method === "POST" ? { raw: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } } : {});
  expect(a.headers.get("location"), show(token.slice(0, 80))).toBeNull();
  // "", "." and ".." leave no token segment once the URL is resolved: the router's own 404.
  const detail = ["", ".", ".."].includes(token) ? expect.stringMatching(/^no route for /) : r.notFound;
  expect(a.json, `${r.method} ${r.prefix}${show(token.slice(0, 80))}`).toMatchObject({ status: 404, code: "not_found", detail });
}

/** What a tenant can see of the effects: the timeline, engagement, and the reader's preferences. */
async function effects() {
  const detail = (await probe("GET", `/api/communications/${communication}`, { key })).json;
  const prefs = (await probe("GET", "/api/communication-preferences/customer/reader-1", { key })).json;
  const suppressed = (await probe("GET", "/api/suppressions", { key })).json.results;
  return { openedAt: detail.openedAt, clickedAt: detail.clickedAt, events: detail.events.length, marketing: prefs.marketingUnsubscribed, exists: prefs.exists, suppressed };
}

describe("random and forged tokens", () => {
  const payload = fc.record({
    k: fc.constantFrom("o", "c", "u", "x", "", "O"),
    t: fc.oneof(fc.constant("TENANT"), nastyString),
    c: fc.oneof(fc.constant("COMM"), nastyString),
    u: fc.oneof(fc.constantFrom("https://evil.test/", "javascript:alert(1)", "//evil.test", "/\\evil.test"), nastyString),
  }, { requiredKeys: ["k"] });
  // Tenant and communication ids exist only once beforeAll ran: tokens are built when used.
  const fill = (p: Record<string, unknown>) => JSON.stringify(p).replaceAll('"TENANT"', JSON.stringify(tenantId)).replaceAll('"COMM"', JSON.stringify(communication));
  const ours = (p: Record<string, unknown>) => ({ ...(JSON.parse(fill(p)) as TrackingToken), t: tenantId, c: communication });

  const token: fc.Arbitrary<() => Promise<string> | string> = fc.oneof(
    nastyString.map((s) => () => s),
    fc.stringMatching(/^[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{0,60}$/).map((s) => () => s),
    fc.tuple(payload, fc.stringMatching(/^[A-Za-z0-9_-]{0,50}$/)).map(([p, mac]) => () => `${b64(fill(p))}.${mac}`),
    // Our payload with the MAC left off, or with the MAC of another payload.
    payload.map((p) => () => `${b64(fill(p))}.`),
    payload.map((p) => () => `${b64(fill(p))}.${real.o.split(".")[1]}`),
    // Signed correctly, but with a key that is not Herald's.
    payload.map((p) => () => signToken(OTHER_SECRET, ours(p))),
  );

  it("any token that Herald did not sign is a 404 on every token route, and changes nothing", async () => {
    const before = await effects();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), token, async (r, t) => {
        await expectRefused(r, await t());
      }),
      runs(200, 0x70c),
    );
    expect(await effects()).toEqual(before);
  }, 60_000);
});

describe("mutated tokens", () => {
  const mutation = fc.oneof(
    fc.tuple(fc.nat(), fc.constantFrom(..."AZaz09-_.=+/%~")).map(([i, ch]) => (t: string) => {
      const at = i % t.length;
      return t.slice(0, at) + ch + t.slice(at + 1);
    }),
    fc.nat().map((i) => (t: string) => t.slice(0, i % t.length) + t.slice((i % t.length) + 1)),
    fc.tuple(fc.nat(), fc.constantFrom(..."Aa0-_.")).map(([i, ch]) => (t: string) => t.slice(0, i % t.length) + ch + t.slice(i % t.length)),
    fc.nat().map((i) => (t: string) => t.slice(0, i % t.length)),
    fc.constant((t: string) => t.toUpperCase()),
    fc.constant((t: string) => t.split(".").reverse().join(".")),
    // Another token's payload under this token's MAC, and the other way round.
    fc.constantFrom("o", "c", "u").map((k) => (t: string) => `${real[k as keyof typeof real].split(".")[0]}.${t.split(".")[1]}`),
    // The payload re-encoded with padding or standard base64: same bytes, different text.
    fc.constant((t: string) => `${t.split(".")[0]}==.${t.split(".")[1]}`),
    fc.constant((t: string) => `${t.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")}.${t.split(".")[1]}`),
  );

  it("any change to a real token's payload or MAC is a 404 that changes nothing", async () => {
    const before = await effects();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (r, ms) => {
        const original = realFor(r);
        const mutated = ms.reduce((t, m) => m(t), original);
        // Herald reads the first two dot-separated parts; text after a third dot is not signed
        // and not used, so it leaves the same credential.
        if (mutated.split(".").slice(0, 2).join(".") === original) return;
        await expectRefused(r, mutated);
      }),
      runs(200, 0x70d),
    );
    expect(await effects()).toEqual(before);
  }, 60_000);

  it("a click token only ever redirects to the URL signed into it", async () => {
    const signed = fc.oneof(fc.webUrl(), fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.constantFrom("https://acme.test/ü/😀", "https://acme.test/a b"));
    await fc.assert(
      fc.asyncProperty(signed, async (u) => {
        // A communication that does not exist: the redirect still happens, nothing is recorded.
        const t = await signToken(SECRET, { k: "c", t: tenantId, c: "no-such-communication", u });
        const a = await hit("GET", `/t/c/${t}`);
        expect(a.status, a.text).toBe(302);
        expect(new URL(a.headers.get("location")!).href).toBe(new URL(u).href);
      }),
      runs(50, 0x70e),
    );
  }, 60_000);

  // Regression test for a fixed bug (click redirect with a line break): addTracking's link pattern `https?:\/\/[^"']+` takes
  // CR/LF inside an href, signs it, and /t/c then passes it to c.redirect → the Location header
  // refuses the value → TypeError → 500 every time the recipient clicks.
  it("a link whose href holds a line break is left untracked, so no click can redirect to it", async () => {
    const html = await addTracking('<a href="https://acme.test/a\r\nb">x</a>', { secret: SECRET, publicUrl: "https://herald.test", tenantId, communicationId: "no-such-communication" });
    expect(html).toContain('href="https://acme.test/a\r\nb"');
    expect(html).not.toMatch(/\/t\/c\//);
  });
});

describe("the real tokens", () => {
  it("work, and only once the fuzzing above left everything as it was", async () => {
    const before = await effects();
    expect(before).toMatchObject({ openedAt: null, clickedAt: null, marketing: [], suppressed: [] });

    const pixel = await hit("GET", `/t/o/${real.o}`);
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get("content-type")).toBe("image/gif");
    const click = await hit("GET", `/t/c/${real.c}`);
    expect(click.status).toBe(302);
    expect(click.headers.get("location")).toBe(DESTINATION);
    const page = await hit("GET", `/u/${real.u}`);
    expect(page.status).toBe(200);
    expect((await effects()).marketing).toEqual([]);
    const unsubscribe = await hit("POST", `/u/${real.u}`, { raw: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(unsubscribe.status).toBe(200);

    const after = await effects();
    expect(after.openedAt).not.toBeNull();
    expect(after.clickedAt).not.toBeNull();
    expect(after.marketing).toEqual(["email"]);
  });

  it("a token for one tenant's communication does not reach another's", async () => {
    const other = await fuzzTenant("Other");
    const forged = await signToken(SECRET, { k: "u", t: other.tenantId, c: communication });
    await expectRefused(ROUTES[2]!, forged);
    await expectRefused(ROUTES[3]!, forged);
  });
});

describe("inbox tokens", () => {
  const INBOX: { method: string; path: string; body?: unknown; headers?: Record<string, string> }[] = [
    { method: "GET", path: "/api/inbox/items" },
    { method: "GET", path: "/api/inbox/counts" },
    { method: "POST", path: "/api/inbox/items/mark", body: { ids: ["x"], action: "read" } },
    { method: "POST", path: "/api/inbox/items/read-all" },
  ];
  const b64json = (v: unknown) => b64(JSON.stringify(v));
  const claims = () => ({ tid: tenantId, rt: "customer", sub: "reader-1", aud: "herald-inbox", iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
  let real = "";
  beforeAll(async () => {
    real = (await created("POST", "/api/inbox/tokens", key, { recipientId: "reader-1" }, (j) => j?.token)).token;
  });

  const forged: fc.Arbitrary<() => Promise<string> | string> = fc.oneof(
    fc.stringMatching(/^[\x21-\x7e]{1,200}$/).map((t) => () => t),
    // Unsigned ("alg": "none"), and signed by a key that is not Herald's.
    fc.constant(() => `${b64json({ alg: "none", typ: "JWT" })}.${b64json(claims())}.`),
    fc.constant(async () => (await mintInboxToken(OTHER_SECRET, { tenantId, recipientType: "customer", recipientId: "reader-1" }, 600)).token),
    // Herald's key, but expired.
    fc.constant(async () => (await mintInboxToken(SECRET, { tenantId, recipientType: "customer", recipientId: "reader-1" }, 60, new Date(Date.now() - 3_600_000))).token),
    // The real token with its claims re-encoded (say, another tenant) under the old signature.
    fc.constant(() => `${real.split(".")[0]}.${b64json({ ...claims(), tid: "another-tenant" })}.${real.split(".")[2]}`),
    fc.tuple(fc.nat(), fc.constantFrom(..."AZaz09-_.")).map(([i, ch]) => () => {
      const at = i % real.length;
      return real.slice(0, at) + (real[at] === ch ? (ch === "A" ? "B" : "A") : ch) + real.slice(at + 1);
    }),
    fc.nat().map((i) => () => real.slice(0, i % real.length)),
    // Credentials of other kinds.
    fc.constant(() => key),
    fc.constant(() => real.split(".").slice(0, 2).join(".")),
  );

  it("a token Herald did not mint for this recipient, or one that expired, is a 401 on every inbox route", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...INBOX), forged, fc.boolean(), async (r, make, inQuery) => {
        const token = await make();
        const a = await probe(r.method, inQuery ? `${r.path}?token=${enc(token)}` : r.path, {
          json: r.body,
          headers: { ...r.headers, ...(inQuery ? {} : { authorization: `Bearer ${token}` }) },
        });
        expect(a.status, `${r.path} ${show(token.slice(0, 60))}`).toBe(401);
      }),
      runs(150, 0x1b0),
    );
  }, 60_000);

  // A browser sees a refused upgrade only as 1006, like a dropped network: the socket route
  // accepts the upgrade and closes at once with 4401, before a single message.
  it("a token Herald did not mint for this recipient, or one that expired, closes the inbox socket with 4401", async () => {
    await fc.assert(
      fc.asyncProperty(forged, async (make) => {
        const res = await exports.default.fetch(`https://herald.test/api/inbox/ws?token=${enc(await make())}`, { headers: { upgrade: "websocket" } });
        expect(res.status).toBe(101);
        const ws = res.webSocket!;
        const messages: unknown[] = [];
        const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
        ws.addEventListener("message", (e) => messages.push(e.data));
        ws.accept();
        expect(await closed).toBe(4401);
        expect(messages).toEqual([]);
      }),
      runs(40, 0x1b1),
    );
  }, 60_000);

  it("an inbox token is not an API key", async () => {
    const a = await probe("GET", "/api/communications", { key: real });
    expect(a.status).toBe(401);
  });

  it("the real token opens its own inbox", async () => {
    const a = await probe("GET", "/api/inbox/counts", { key: real });
    expect(a.status).toBe(200);
  });
});

itLeakedNoSecret();
