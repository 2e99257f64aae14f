// Priority lanes (issue 18): urgent and high sends travel on herald-priority-sends, normal and low
// on herald-sends, campaigns on herald-bulk-sends; every re-enqueue keeps the lane.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import api from "../src/index";
import { PRIORITIES } from "../src/domain";
import { laneFor } from "../src/pipeline/send-lanes";
import { addProvider, call, captureLanes, createTenant, getCommunication, runDelivery } from "./helpers";

let key: string;
let lanes: ReturnType<typeof captureLanes>;
const sms = (extra: Record<string, unknown> = {}) => ({ channel: "sms", recipientContact: "+14155550123", content: "Your code is 123456", ...extra });

beforeEach(async () => {
  vi.restoreAllMocks();
  lanes = captureLanes();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "sms", provider: "sandbox" });
});

async function send(body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

describe("laneFor", () => {
  it("puts urgent and high transactional sends in the priority lane, the rest in standard, every campaign send in bulk", () => {
    const table = Object.fromEntries(PRIORITIES.map((p) => [p, [laneFor(p, "transactional"), laneFor(p, "campaign")]]));
    expect(table).toEqual({
      urgent: ["priority", "bulk"],
      high: ["priority", "bulk"],
      normal: ["standard", "bulk"],
      low: ["standard", "bulk"],
    });
  });
});

describe("the send lanes", () => {
  it("enqueues each accepted send on its priority's queue, a batch split by lane", async () => {
    const urgent = await send(sms({ priority: "urgent" }));
    const normal = await send(sms());
    const res = await call("POST", "/api/communications/batch", {
      key,
      body: { items: [sms({ priority: "high" }), sms({ priority: "low" }), sms({ priority: "urgent" })] },
    });
    expect(res.status, res.text).toBe(201);
    const [high, low, urgent2] = res.json.results.map((r: { id: string }) => r.id);
    const laneOf = Object.fromEntries(lanes.sent.map((m) => [m.body.communicationId, m.lane]));
    expect(laneOf).toEqual({ [urgent]: "priority", [normal]: "standard", [high]: "priority", [low]: "standard", [urgent2]: "priority" });
  });

  it("delivers from herald-priority-sends with the same consumer", async () => {
    const id = await send(sms({ priority: "urgent" }));
    const { result } = await runDelivery(lanes.drain().map((m) => m.body), { queue: "herald-priority-sends" });
    expect(result.explicitAcks).toHaveLength(1);
    expect((await getCommunication(key, id)).status).toBe("delivered");
  });

  it("keeps a far-future urgent send in the priority lane on each 12-hour hop", async () => {
    await send(sms({ priority: "urgent", scheduledAt: new Date(Date.now() + 30 * 3600_000).toISOString() }));
    const [first] = lanes.drain();
    expect(first).toMatchObject({ lane: "priority", delaySeconds: 12 * 3600 });
    await runDelivery([first!.body], { queue: "herald-priority-sends" });
    expect(lanes.sent).toEqual([expect.objectContaining({ lane: "priority", delaySeconds: 12 * 3600 })]);
  });

  it("has the cron sweep re-enqueue a lost send on its own lane", async () => {
    const urgent = await send(sms({ priority: "urgent" }));
    const normal = await send(sms());
    lanes.drain(); // the queues "lose" both
    const old = Date.now() - 10 * 60_000;
    await env.DB.prepare("UPDATE communication SET enqueued_at = ? WHERE id IN (?, ?)").bind(old, urgent, normal).run();
    const ctx = createExecutionContext();
    await api.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const laneOf = Object.fromEntries(lanes.sent.map((m) => [m.body.communicationId, m.lane]));
    expect(laneOf).toMatchObject({ [urgent]: "priority", [normal]: "standard" });
  });
});
