// D1 sessions on the API (src/api/middleware/d1-session.ts): reads may go to a replica, writes
// start on the primary, and the x-herald-bookmark header carries read-your-writes across requests.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { sessionConstraint } from "../../src/api/middleware/d1-session";
import { addProvider, call, captureQueue, createTenant, testEnv } from "../helpers";

let key: string;
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

beforeEach(async () => {
  vi.restoreAllMocks();
  captureQueue();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "sms", provider: "sandbox" });
});

/** Records the constraint of every session the API opens. */
function sessions() {
  const opened: string[] = [];
  const withSession = testEnv.DB.withSession.bind(testEnv.DB);
  vi.spyOn(testEnv.DB, "withSession").mockImplementation((constraint) => {
    opened.push(String(constraint));
    return withSession(constraint);
  });
  return opened;
}

const sms = { channel: "sms", recipientContact: "+14155550123", content: "hi" };

describe("D1 sessions", () => {
  it("chooses the session by method, or from the caller's bookmark", () => {
    expect(sessionConstraint("GET", undefined)).toBe("first-unconstrained");
    expect(sessionConstraint("HEAD", undefined)).toBe("first-unconstrained");
    expect(sessionConstraint("POST", undefined)).toBe("first-primary");
    expect(sessionConstraint("DELETE", undefined)).toBe("first-primary");
    const b = "00000000-00000012-00000000-00000000000000000000000000000000";
    expect(sessionConstraint("GET", b)).toBe(b);
  });

  it("runs a send on the primary and answers with a bookmark that a later read sends back", async () => {
    const opened = sessions();
    const sent = await call("POST", "/api/communications/send", { key, body: sms });
    expect(sent.status, sent.text).toBe(201);
    const bookmark = sent.headers.get("x-herald-bookmark");
    expect(bookmark).toMatch(BOOKMARK);
    expect(opened).toEqual(["first-primary"]);

    const read = await call("GET", `/api/communications/${sent.json.id}`, { key, headers: { "x-herald-bookmark": bookmark! } });
    expect(read.status).toBe(200);
    expect(read.json.id).toBe(sent.json.id);
    expect(opened).toEqual(["first-primary", bookmark]);
    // The read's own bookmark is at least as new as the one it started from.
    expect(read.headers.get("x-herald-bookmark")! >= bookmark!).toBe(true);
  });

  it("reads history, stats and detail from any replica when no bookmark is sent", async () => {
    const sent = await call("POST", "/api/communications/send", { key, body: sms });
    const opened = sessions();
    for (const path of ["/api/communications", "/api/communications/stats", `/api/communications/${sent.json.id}`]) {
      const res = await call("GET", path, { key });
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      expect(res.headers.get("x-herald-bookmark"), path).toMatch(BOOKMARK);
    }
    expect(opened).toEqual(["first-unconstrained", "first-unconstrained", "first-unconstrained"]);
  });

  it("answers 422 naming the header for a bookmark that is not one, as for a bad Idempotency-Key", async () => {
    const res = await call("GET", "/api/communications", { key, headers: { "x-herald-bookmark": "not-a-bookmark" } });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.json.errors).toEqual([expect.objectContaining({ field: "x-herald-bookmark" })]);
  });
});
