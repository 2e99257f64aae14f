/**
 * The admin console's static files, served through the API Worker (src/api/routes/console.ts):
 * every file with the strict Content-Security-Policy, nothing outside /console, and no data
 * without an API key (the page calls /api like any client). The stats series its charts draw.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { addProvider, BASE, call, captureQueue, createTenant, runDelivery } from "../helpers";

const csp = (headers: Headers) => Object.fromEntries((headers.get("content-security-policy") ?? "").split(/;\s*/).map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));

describe("GET /console", () => {
  it("serves the page with a strict Content-Security-Policy and no inline script", async () => {
    const res = await call("GET", "/console/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain("<title>Herald console</title>");
    expect(res.text).toMatch(/<script type="module" src="\.\/app\.js"><\/script>/);
    // Every <script> has a src: the policy allows no inline code, and the page needs none.
    expect([...res.text.matchAll(/<script\b[^>]*>/g)].every(([tag]) => / src="/.test(tag))).toBe(true);
    expect(csp(res.headers)).toMatchObject({
      "default-src": "'none'",
      "script-src": "'self'",
      "connect-src": "'self'",
      "frame-ancestors": "'none'",
      "base-uri": "'none'",
    });
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("serves its scripts and styles with the same headers", async () => {
    for (const [path, type] of [
      ["/console/app.js", /javascript/],
      ["/console/console.css", /text\/css/],
    ] as const) {
      const res = await call("GET", path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(type);
      expect(csp(res.headers)["script-src"], path).toBe("'self'");
    }
  });

  it("redirects /console to /console/ and serves nothing of the directory elsewhere", async () => {
    const res = await exports.default.fetch(`${BASE}/console`, { redirect: "manual" });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/console/");
    expect((await call("GET", "/app.js")).status).toBe(404);
    expect((await call("GET", "/console/nope.js")).status).toBe(404);
  });
});

describe("GET /api/communications/stats daily series", () => {
  it("counts each day's communications per channel, for the console's charts", async () => {
    const queue = captureQueue();
    const { key } = await createTenant();
    await addProvider(key, { channel: "sms", provider: "sandbox" });
    await addProvider(key, { channel: "email", provider: "sandbox" });
    for (const body of [
      { channel: "sms", recipientContact: "+14155550123", content: "one" },
      { channel: "sms", recipientContact: "+14155550124", content: "two" },
      { channel: "email", recipientContact: "ada@example.com", subject: "Hi", content: "three" },
    ]) {
      expect((await call("POST", "/api/communications/send", { key, body })).status).toBe(201);
    }
    await runDelivery(queue.sent.map((m) => m.body));
    const today = new Date().toISOString().slice(0, 10);
    const res = await call("GET", "/api/communications/stats", { key });
    expect(res.status).toBe(200);
    expect(res.json.daily).toEqual([
      expect.objectContaining({ day: today, channel: "email", accepted: 1, sent: 1 }),
      expect.objectContaining({ day: today, channel: "sms", accepted: 2, sent: 2 }),
    ]);
    const empty = await call("GET", "/api/communications/stats?startDate=2000-01-01&endDate=2000-01-31", { key });
    expect(empty.json.daily).toEqual([]);
  });
});
