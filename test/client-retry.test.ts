/**
 * The client package's retries, against a scripted fetch: which failures are retried, that one
 * Idempotency-Key travels with every attempt of a call (and a new one with the next call), that
 * Retry-After sets the wait, that back-off grows and stays capped, and that ProblemError carries
 * the problem+json body. The waits are recorded, not slept.
 */
import { describe, expect, it } from "vitest";
import { HeraldClient, ProblemError } from "../packages/client/src";
import { backoffMs, retryPolicy } from "../packages/client/src/retry";

type Seen = { method: string; url: string; headers: Record<string, string> };
const problem = (status: number, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: "https://herald.dev/problems/x", title: "T", status, code: "x", detail: "d", requestId: "req-1", ...extra }), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });

/** A client whose fetch answers from `script` in turn (a function throws, as a network error). */
function scripted(script: (Response | (() => never))[], retry: Parameters<typeof retryPolicy>[0] = {}) {
  const seen: Seen[] = [];
  const waits: number[] = [];
  const client = new HeraldClient({
    baseUrl: "https://herald.test/",
    apiKey: "hk_test",
    fetch: async (url, init) => {
      seen.push({ method: String(init.method), url, headers: init.headers as Record<string, string> });
      const next = script.shift();
      if (!next) throw new Error("script ran out");
      return typeof next === "function" ? next() : next;
    },
    retry: retry === false ? false : { random: () => 0.5, sleep: async (ms) => void waits.push(ms), ...retry },
  });
  return { client, seen, waits };
}
const ok = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const networkDown = () => {
  throw new TypeError("fetch failed");
};

describe("client retries", () => {
  it("resends a send after a network error and a 503 with the same Idempotency-Key, and a new key for the next call", async () => {
    const { client, seen, waits } = scripted([networkDown, problem(503), ok({ id: "c1" }, 201), ok({ id: "c2" }, 201)]);
    expect(await client.communications.send({ channel: "sms", recipientContact: "+14155550123", content: "hi" })).toEqual({ id: "c1" });
    expect(seen.map((s) => s.method)).toEqual(["POST", "POST", "POST"]);
    const keys = seen.map((s) => s.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]!.headers.authorization).toBe("Bearer hk_test");
    expect(seen[0]!.url).toBe("https://herald.test/api/communications/send");
    // Full jitter at 0.5 over 250 ms, then 500 ms.
    expect(waits).toEqual([125, 250]);

    await client.communications.send({ channel: "sms", recipientContact: "+14155550123", content: "again" });
    expect(seen[3]!.headers["idempotency-key"]).not.toBe(keys[0]);
  });

  it("uses the caller's idempotency key when given", async () => {
    const { client, seen } = scripted([problem(500), ok({ id: "e1" }, 202)]);
    await client.events.post({ type: "invoice.paid" }, { idempotencyKey: "mine-1" });
    expect(seen.map((s) => s.headers["idempotency-key"])).toEqual(["mine-1", "mine-1"]);
  });

  it("honours Retry-After on a 429, for any method, and gives up when it is longer than the cap", async () => {
    const { client, waits } = scripted([problem(429, {}, { "retry-after": "2" }), ok({ id: "t1" }, 201)]);
    await client.templates.create({ name: "A", code: "a", channel: "sms", type: "otp", bodyTemplate: "x" });
    expect(waits).toEqual([2000]);

    const capped = scripted([problem(429, { code: "rate_limited" }, { "retry-after": "60" })], { maxDelayMs: 5000 });
    const error = await capped.client.providers.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", retryAfterSeconds: 60 });
    expect(capped.seen).toHaveLength(1);
  });

  it("does not resend a POST the API does not deduplicate after a 5xx or a network error", async () => {
    const { client, seen } = scripted([problem(502)]);
    await expect(client.templates.create({ name: "A", code: "a", channel: "sms", type: "otp", bodyTemplate: "x" })).rejects.toMatchObject({ status: 502 });
    expect(seen).toHaveLength(1);
    const down = scripted([networkDown]);
    await expect(down.client.campaigns.send("c1")).rejects.toThrow("fetch failed");
    expect(down.seen).toHaveLength(1);
  });

  it("retries GETs on 5xx up to the limit, then throws the last problem; never retries a 4xx", async () => {
    const { client, seen, waits } = scripted([problem(500), problem(500), problem(500), problem(500, { detail: "still down" })]);
    const error = (await client.communications.get("c1").catch((e: unknown) => e)) as ProblemError;
    expect(error).toMatchObject({ status: 500, detail: "still down", requestId: "req-1", title: "T", type: "https://herald.dev/problems/x" });
    expect(seen).toHaveLength(4);
    expect(waits).toEqual([125, 250, 500]);

    const invalid = scripted([problem(422, { code: "validation_failed", errors: [{ field: "recipientContact", message: "must be an email address" }] })]);
    const e422 = (await invalid.client.communications.send({ channel: "email", recipientContact: "x", content: "y" }).catch((e: unknown) => e)) as ProblemError;
    expect(e422.fieldError("recipientContact")).toBe("must be an email address");
    expect(invalid.seen).toHaveLength(1);
  });

  it("turns retrying off with retry: false, and reads a non-JSON error page as a bare status", async () => {
    const { client, seen } = scripted([new Response("<html>bad gateway</html>", { status: 502 })], false);
    const error = (await client.usage.get().catch((e: unknown) => e)) as ProblemError;
    expect(error).toMatchObject({ status: 502, code: "http_502", errors: [] });
    expect(seen).toHaveLength(1);
  });

  it("stops retrying when the call's signal is aborted", async () => {
    const controller = new AbortController();
    let attempts = 0;
    const client = new HeraldClient({
      baseUrl: "https://herald.test",
      apiKey: "hk_test",
      fetch: async () => {
        attempts++;
        controller.abort(new Error("caller gave up"));
        return problem(503);
      },
    });
    await expect(client.communications.get("c1", { signal: controller.signal })).rejects.toThrow("caller gave up");
    expect(attempts).toBe(1);
  });

  it("caps the exponential back-off and keeps it within [0, ceiling)", () => {
    const high = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(high, n, null))).toEqual([99, 199, 399, 799, 999, 999]);
    const low = retryPolicy({ random: () => 0 });
    expect(backoffMs(low, 3, null)).toBe(0);
    expect(backoffMs(low, 3, 3)).toBe(3000);
  });
});
