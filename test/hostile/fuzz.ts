/**
 * Shared by the hostile-input suites and the isolation matrix: one way to call the API Worker that
 * times out instead of hanging and remembers every answer; the contract every answer must meet
 * (below 500, and a 4xx is application/problem+json with a code and the request id); a registry
 * of secrets that no answer may contain; hostile value generators; and fixed fast-check settings
 * so a failure prints a seed and path that replay it exactly (pass both to `runs` — or add
 * `path` to its result — to rerun just the counterexample).
 */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { expect, it } from "vitest";
import { captureEvents, captureQueue } from "../helpers";

export const BASE = "https://herald.test";
export const ADMIN = "test-admin-token";
/** Longer than any honest answer in this suite takes; reaching it means the Worker hung. */
const HANG_MS = 10_000;

export type Answer = { method: string; url: string; status: number; headers: Headers; text: string; json: any };

export type HitOptions = {
  key?: string;
  /** Serialised as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as given, with only the headers passed. */
  raw?: BodyInit;
  headers?: Record<string, string>;
  /** For the few answers that show a secret once (a new API key, a webhook secret): picks it out. */
  reveals?: (json: any) => string | undefined;
};

// ---------------------------------------------------------------------------------------------
// Secrets: registered as soon as they exist; every answer is checked against them on arrival,
// and kept, so `expectNoSecretLeaked` can check all of them again against secrets learnt later.

const secrets = new Set<string>([ADMIN, env.ENCRYPTION_KEY!]);
const answers: { text: string; allowed?: string }[] = [];

export function registerSecret(...values: string[]) {
  for (const v of values) if (v.length >= 8) secrets.add(v);
}

/** Whatever Herald keeps sealed or hashed in D1 must not come back out either. */
export async function registerStoredSecrets() {
  const rows = await env.DB.batch<{ v: string }>([
    env.DB.prepare("SELECT credentials AS v FROM provider_config"),
    env.DB.prepare("SELECT secret AS v FROM webhook_endpoint"),
    env.DB.prepare("SELECT hash AS v FROM api_key"),
  ]);
  for (const { v } of rows.flatMap((r) => r.results)) registerSecret(v, ...v.split(".").filter((part) => part.length >= 16));
}

function leakedIn(text: string, allowed?: string) {
  for (const s of secrets) if (s !== allowed && text.includes(s)) return s;
  return undefined;
}

export function expectNoSecretLeaked() {
  expect(secrets.size).toBeGreaterThan(2);
  for (const a of answers) {
    const leaked = leakedIn(a.text, a.allowed);
    expect(leaked, `a response contained a secret: ${clip(a.text, 300)}`).toBeUndefined();
  }
}

// ---------------------------------------------------------------------------------------------

export async function hit(method: string, path: string, o: HitOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (o.json !== undefined) headers["content-type"] = "application/json";
  Object.assign(headers, o.headers);
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  const url = path.startsWith("http") ? path : `${BASE}${path}`;
  const body = o.json !== undefined ? JSON.stringify(o.json) : o.raw;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${method} ${clip(url, 200)} gave no answer within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    const res = await Promise.race([exports.default.fetch(url, { method, headers, body, redirect: "manual" }), hang]);
    const text = await Promise.race([res.text(), hang]);
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const allowed = o.reveals?.(json);
    // Headers too: a secret in a Location or a debug header leaks as surely as in the body.
    const seen = `${[...res.headers].map(([n, v]) => `${n}: ${v}`).join("\n")}\n\n${text}`;
    const leaked = leakedIn(seen, allowed);
    if (allowed) registerSecret(allowed);
    answers.push({ text: seen, allowed });
    expect(leaked, `${method} ${clip(url, 200)} answered with a secret`).toBeUndefined();
    return { method, url, status: res.status, headers: res.headers, text, json };
  } finally {
    clearTimeout(timer);
  }
}

const STACK_FRAME = /\bat .*\(?[\w/.-]+\.(ts|js|mjs):\d+:\d+\)?/;

/** The contract for every public route: a success, or a 4xx problem that says what and which request. */
export function expectWellFormed(a: Answer, label = "") {
  // Messages quote the decoded text, never parsed values: a lone surrogate in a failure message
  // cannot cross the test pool's WebSocket.
  const where = `${label ? `${label}: ` : ""}${a.method} ${clip(a.url, 160)} → ${a.status} ${clip(a.text, 300)}`;
  expect(a.status, where).toBeLessThan(500);
  expect(a.status, where).toBeGreaterThanOrEqual(200);
  if (a.status < 400) return;
  const p = a.json ?? {};
  expect(a.headers.get("content-type"), where).toMatch(/^application\/problem\+json/);
  expect(p.status === a.status && typeof p.code === "string" && typeof p.detail === "string", where).toBe(true);
  expect(typeof p.requestId === "string" && /^\S+$/.test(p.requestId) && a.headers.get("x-request-id") === p.requestId, where).toBe(true);
  const errors: unknown[] = p.errors ?? [];
  expect(Array.isArray(errors) && errors.every((e: any) => typeof e?.field === "string" && typeof e?.message === "string"), where).toBe(true);
  expect(STACK_FRAME.test(p.detail), where).toBe(false);
}

/** A value as JSON text: safe to compare and print whatever code units it holds. */
export const show = (v: unknown) => JSON.stringify(v) ?? "undefined";
/** The start of a text for a message, without splitting a surrogate pair. */
export const clip = (s: string, n: number) => s.slice(0, n).toWellFormed();
/** Length as zod counts it for min and max: code points. */
export const codePoints = (s: string) => [...s].length;

export async function probe(method: string, path: string, o: HitOptions = {}, label = "") {
  const a = await hit(method, path, o);
  expectWellFormed(a, label);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Fixtures, made through the same recorded path.

/** A tenant with a bucket no fuzzer can empty, so a 429 never hides what a route would answer. */
export async function fuzzTenant(name = "Hostile") {
  const created = await hit("POST", "/admin/tenants", { key: ADMIN, json: { name }, reveals: (j) => j?.apiKey });
  expect(created.status, created.text).toBe(201);
  const tenantId = created.json.tenant.id as string;
  const key = created.json.apiKey as string;
  const limits = await hit("PATCH", `/admin/tenants/${tenantId}`, { key: ADMIN, json: { rateLimit: { perSecond: 100_000, burst: 1_000_000 } } });
  expect(limits.status, limits.text).toBe(200);
  return { tenantId, key };
}

/**
 * The usual starting point of a hostile file: queues and events captured, a fuzzing tenant with
 * sandbox sms and email providers (so sends are accepted) and the secret-holding SendGrid and
 * Twilio ones (so a leak has something to show).
 */
export async function hostileTenant() {
  const queue = captureQueue();
  captureEvents();
  const tenant = await fuzzTenant();
  await created("POST", "/api/providers", tenant.key, { channel: "sms", provider: "sandbox" });
  await created("POST", "/api/providers", tenant.key, { channel: "email", provider: "sandbox" });
  await providersWithSecrets(tenant.key);
  return { ...tenant, queue };
}

/** Every hostile file's last test: no answer it recorded carried a stored secret. */
export const itLeakedNoSecret = () =>
  it("no response in this file carried a secret", async () => {
    await registerStoredSecrets();
    expectNoSecretLeaked();
  });

export async function created(method: string, path: string, key: string, json: unknown, reveals?: HitOptions["reveals"]) {
  const a = await hit(method, path, { key, json, reveals });
  expect(a.status, `${method} ${path}: ${clip(a.text, 300)}`).toBeGreaterThanOrEqual(200);
  expect(a.status, `${method} ${path}: ${clip(a.text, 300)}`).toBeLessThan(300);
  return a.json;
}

/** SendGrid and Twilio configs whose credentials are unique to this run, registered as secrets. */
export async function providersWithSecrets(key: string, sendgridSettings: Record<string, unknown> = {}) {
  const apiKey = `SG.hostile-${crypto.randomUUID()}`;
  const authToken = crypto.randomUUID().replace(/-/g, "");
  registerSecret(apiKey, authToken);
  const sendgrid = await created("POST", "/api/providers", key, {
    channel: "email",
    provider: "sendgrid",
    priority: 5,
    credentials: { apiKey },
    settings: { from: "billing@acme.test", baseUrl: "https://sendgrid.mock", ...sendgridSettings },
  });
  const twilio = await created("POST", "/api/providers", key, {
    channel: "sms",
    provider: "twilio",
    priority: 5,
    credentials: { accountSid: "AC" + "0123456789abcdef".repeat(2), authToken },
    settings: { from: "+14155550100", baseUrl: "https://twilio.mock" },
  });
  return { sendgrid, twilio, apiKey, authToken };
}

// ---------------------------------------------------------------------------------------------
// Generators.

/** Fixed seeds: a failure report's seed and path replay the exact counterexample. */
export const runs = (numRuns: number, seed: number): fc.Parameters<unknown> => ({
  numRuns,
  seed,
  // A safety net for slow CI machines; the numbers above normally finish far sooner.
  plugins: [fc.interruptAfterTimeLimit(40_000)],
});

/**
 * Strings that have broken parsers, renderers, databases and mail headers elsewhere. Left out on
 * purpose: names of Object.prototype functions inside `{{…}}` (a known bug, pinned by its own
 * `it.fails` test in injection.test.ts), so the properties keep testing everything else.
 */
export const NASTY = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\r\n",
  "\n",
  "\r",
  "\t",
  "\u2028\u2029",
  "\u0085",
  "\uD800",
  "\uDFFF",
  "x\uDBFF",
  "\uDC00x",
  "\uFEFF",
  "\u200B\u200C\u200D",
  "\u202Eevil\u202C",
  "\u061C\u200F",
  "مرحبا بالعالم",
  "שלום",
  "👨‍👩‍👧‍👦",
  "🏳️‍🌈",
  "e\u0301",
  "\uFFFD",
  "\uFFFF",
  "Ω≈ç√∫",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-0",
  "1e400",
  "0x10",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "prototype",
  "../../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "%00",
  "%2e%2e%2f",
  "%",
  "%ZZ",
  "<script>alert(1)</script>",
  "\"'><img src=x onerror=alert(1)>",
  "' OR '1'='1' --",
  "'; DROP TABLE communication; --",
  "${7*7}",
  "{{7*7}}",
  "{{{x}}}",
  "{{> partial}}",
  "{{#x}}{{/x}}",
  "{{=<% %>=}}",
  "{{/x}}",
  "Subject\r\nBcc: victim@evil.test",
  "a@b.test\r\nBcc: c@d.test",
  "+14155550123\n",
  "javascript:alert(1)",
  "http://169.254.169.254/latest/meta-data/",
  "file:///etc/passwd",
];

const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  // Any UTF-16 code unit, lone surrogates included.
  { weight: 2, arbitrary: fc.string({ unit: utf16Unit, maxLength: 20 }) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...NASTY), { maxLength: 4 }).map((a) => a.join("")) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("x", "é", "😀", "\u0000", "\u202E"), fc.integer({ min: 256, max: 60_000 })).map(([c, n]) => c.repeat(n)) },
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, -(2 ** 63)),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const scalar: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.boolean(), nastyNumber, nastyString);

/** Nested `n` deep: small enough to be fair to any JSON library (see the deep-nesting tests for more). */
export const nested = (n: number, leaf: unknown = 0): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

/** Any JSON value, with hostile strings and keys, the odd huge array and deep (≤ 200) nesting. */
export const nastyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small", maxDepth: 4 }, scalar, tie("array"), tie("object")),
    array: fc.array(tie("value"), { maxLength: 5 }),
    object: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...NASTY)), tie("value"), { maxKeys: 5, noNullPrototype: true }),
  })).value },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 100_000 }), fc.constantFrom(0, null, true, "x", "😀", {})).map(([n, v]) => Array.from({ length: n }, () => v)) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 200 }).map((n) => nested(n)) },
);

export type Kind = "string" | "number" | "boolean" | "array" | "object";
const kindOf = (v: unknown): Kind | "null" => (v === null ? "null" : Array.isArray(v) ? "array" : (typeof v as Kind));

/** A JSON value whose type is not `kind` (and not null when null is allowed). */
export const wrongType = (kind: Kind, nullable = false): fc.Arbitrary<unknown> =>
  fc
    .oneof(
      fc.constant(null),
      fc.boolean(),
      nastyNumber,
      nastyString,
      fc.array(scalar, { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3, noNullPrototype: true }),
    )
    .filter((v) => kindOf(v) !== kind && !(nullable && v === null));

/** Texts that are not JSON, or not only JSON. */
export const notJson: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.constantFrom("{", "}", "[", "{\"a\":}", "{'a':1}", "{a:1}", "\uFEFF{", "{}garbage", "[1,]", "{\"a\":1,}", "NaN", "undefined", "<xml/>", "a=1&b=2", "\"unterminated"),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([v, n]) => {
    const s = JSON.stringify(v);
    return s.slice(0, n % Math.max(1, s.length));
  }),
).filter((s) => {
  try {
    // Decoding a body drops a leading byte-order mark, as TextDecoder does.
    JSON.parse(s.replace(/^\uFEFF/, ""));
    return false;
  } catch {
    return s.trim() !== "";
  }
});

export const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=herald",
  "application/xml",
  "garbage",
  "",
);
