/**
 * Fault injection: flaky providers (errors, throttling, hangs, garbage, rejections) under a few
 * hundred sends, with every queue message delivered twice at once. Every accepted communication
 * must end in a terminal state with a reason, no message may be accepted by a provider twice, and
 * the counts must reconcile exactly.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, TWILIO, type RecordedRequest } from "../helpers";
import type { SendMessage } from "../../src/pipeline/queue-message";

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20261123;
const SENDS = 300;
const TERMINAL = ["sent", "delivered", "failed", "suppressed", "cancelled"];

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
  for (const [priority, host] of [[1, "flaky-a.mock"], [2, "flaky-b.mock"]] as const) {
    await addProvider(key, { channel: "sms", provider: "twilio", priority, credentials: TWILIO().credentials, settings: { from: "+14155550100", baseUrl: `https://${host}`, timeoutMs: 100, rateLimit: { perSecond: 10_000, burst: 10_000 } } });
  }
});

describe("under injected faults", () => {
  it("ends every accepted communication in a terminal state, never sends twice, and reconciles", async () => {
    const next = random(SEED);
    const accepted = new Map<string, number>();
    const flaky = (req: RecordedRequest): Response | Promise<Response> => {
      const id = new URL(new URLSearchParams(req.body).get("StatusCallback")!).searchParams.get("c")!;
      const roll = next();
      if (roll < 0.2) return new Response("upstream down", { status: 503 });
      if (roll < 0.3) return Response.json({ code: 20429, message: "Too Many Requests" }, { status: 429, headers: { "retry-after": "1" } });
      if (roll < 0.35) return new Promise((_, reject) => req.signal?.addEventListener("abort", () => reject(req.signal!.reason)));
      if (roll < 0.4) return new Response("<html>gateway</html>", { status: 200 });
      if (roll < 0.43) return Response.json({ code: 21211, message: "Invalid 'To' Phone Number" }, { status: 400 });
      accepted.set(id, (accepted.get(id) ?? 0) + 1);
      return Response.json({ sid: `SM${crypto.randomUUID().replace(/-/g, "")}`, status: "queued" }, { status: 201 });
    };
    mockProviders({ "https://flaky-a.mock": flaky, "https://flaky-b.mock": flaky });

    const items = Array.from({ length: SENDS }, (_, i) => ({ channel: "sms", recipientContact: `+1415556${String(i).padStart(4, "0")}`, content: `message ${i}` }));
    const res = await call("POST", "/api/communications/batch", { key, body: { items } });
    expect(res.json.accepted).toBe(SENDS);

    // Rounds until nothing waits. The cap only stops a real hang (a message that never settles):
    // on a loaded machine a round can end with nothing done while a 429's pause runs, so rounds
    // that made no progress wait for the pause instead of counting towards a guess of time.
    let pending: SendMessage[] = queue.drain().map((m) => m.body);
    for (let round = 0; round < 300 && pending.length; round++) {
      const before = pending.length;
      // At-least-once: every message arrives twice, at the same time.
      await Promise.all([runDelivery(pending), runDelivery(pending)]);
      // Skip the back-off: whatever waits for a retry is due now.
      await env.DB.prepare("UPDATE communication SET next_retry_at = NULL WHERE tenant_id = ? AND status = 'queued'").bind(tenantId).run();
      const waiting = await env.DB.prepare("SELECT id FROM communication WHERE tenant_id = ? AND status IN ('queued', 'sending')").bind(tenantId).all<{ id: string }>();
      queue.drain();
      pending = waiting.results.map((r) => ({ v: 1, tenantId, communicationId: r.id }));
      // A provider's 429 pauses its send rate for the Retry-After: let that time pass. A batch
      // calls providers 6 at a time, so a 429 early in a round holds back most of the rest of it:
      // wait whenever a round left more than half of what it started with.
      if (pending.length * 2 > before) await new Promise((resolve) => setTimeout(resolve, 300));
    }

    const { results } = await env.DB.prepare("SELECT status, count(*) AS n FROM communication WHERE tenant_id = ? GROUP BY status").bind(tenantId).all<{ status: string; n: number }>();
    const byStatus = Object.fromEntries(results.map((r) => [r.status, r.n]));
    // On failure, say why the stragglers are still waiting: their last few events.
    const stuck = await env.DB.prepare(
      "SELECT c.id, c.status, c.retry_count, c.next_retry_at, e.kind, e.status AS event_status, e.http_status, e.error, e.detail FROM communication c LEFT JOIN communication_event e ON e.communication_id = c.id WHERE c.tenant_id = ? AND c.status NOT IN ('sent', 'delivered', 'failed', 'suppressed', 'cancelled') ORDER BY c.id, e.created_at DESC",
    ).bind(tenantId).all();
    expect(Object.keys(byStatus).every((s) => TERMINAL.includes(s)), JSON.stringify({ byStatus, stuck: stuck.results.slice(0, 30) })).toBe(true);
    expect(Object.values(byStatus).reduce((a, b) => a + b, 0)).toBe(SENDS);

    // Never twice: at most one provider acceptance per communication, and exactly one per sent one.
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    expect(accepted.size).toBe(byStatus.sent ?? 0);

    const failed = await env.DB.prepare("SELECT error_message FROM communication WHERE tenant_id = ? AND status = 'failed'").bind(tenantId).all<{ error_message: string | null }>();
    expect(failed.results.every((r) => r.error_message && r.error_message.length > 0)).toBe(true);
    expect(byStatus.failed).toBeGreaterThan(0);
    expect(byStatus.sent).toBeGreaterThan(SENDS * 0.8);

    const stats = await call("GET", "/api/communications/stats", { key });
    expect(stats.json).toMatchObject({ totalAccepted: SENDS, totalSent: byStatus.sent, byStatus: { failed: byStatus.failed ?? 0 } });
  }, 120_000);
});
