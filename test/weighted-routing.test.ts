import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ProviderConfigRow } from "../src/db/providers";
import { uuidv7 } from "../src/lib/ids";
import { routeOrder } from "../src/pipeline/weighted-routing";
import { addProvider, call, captureQueue, createTenant, json, mockProviders, runDelivery, TWILIO, twilioAccepts } from "./helpers";

const config = (id: string, priority: number, weight?: number) =>
  ({ id, priority, provider: "twilio", channel: "sms", settings: weight === undefined ? {} : { weight } }) as unknown as ProviderConfigRow;

describe("the weighted draw", () => {
  const ids = Array.from({ length: 2_000 }, (_, i) => uuidv7(Date.UTC(2026, 10, 23) + i * 37));
  const firsts = (configs: ProviderConfigRow[]) => {
    const counts: Record<string, number> = {};
    for (const id of ids) {
      const first = routeOrder(configs, "weighted", id)[0]!.id;
      counts[first] = (counts[first] ?? 0) + 1;
    }
    return counts;
  };

  it("spreads first attempts by weight, within a few percent over 2,000 messages", () => {
    const counts = firsts([config("a", 1, 3), config("b", 2, 1)]);
    expect(counts.a! / ids.length).toBeGreaterThan(0.7);
    expect(counts.a! / ids.length).toBeLessThan(0.8);
    const even = firsts([config("a", 1), config("b", 2), config("c", 3)]);
    for (const n of Object.values(even)) expect(Math.abs(n / ids.length - 1 / 3)).toBeLessThan(0.04);
  });

  it("never draws a provider of weight 0 first, and falls back to priority when every weight is 0", () => {
    expect(firsts([config("a", 1, 0), config("b", 2, 5)])).toEqual({ b: 2_000 });
    expect(firsts([config("a", 1, 0), config("b", 2, 0)])).toEqual({ a: 2_000 });
  });

  it("is the same for the same communication, and keeps the rest in priority order", () => {
    const configs = [config("a", 1), config("b", 2), config("c", 3), config("d", 4)];
    for (const id of ids.slice(0, 200)) {
      const order = routeOrder(configs, "weighted", id).map((c) => c.id);
      expect(routeOrder(configs, "weighted", id).map((c) => c.id)).toEqual(order);
      expect(order.slice(1)).toEqual(["a", "b", "c", "d"].filter((x) => x !== order[0]));
    }
    expect(routeOrder(configs, "priority", ids[0]!).map((c) => c.id)).toEqual(["a", "b", "c", "d"]);
  });
});

describe("weighted routing through the pipeline", () => {
  let key: string;
  let queue: ReturnType<typeof captureQueue>;
  beforeEach(async () => {
    vi.restoreAllMocks();
    queue = captureQueue();
    ({ key } = await createTenant());
  });

  const twilioAt = (baseUrl: string, priority: number, weight: number) => TWILIO({ priority, settings: { from: "+14155550100", baseUrl, weight } });
  const sendSms = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550123", content: `message ${i}` } });
      expect(res.status, res.text).toBe(201);
      ids.push(res.json.id);
    }
    await runDelivery(queue.drain().map((m) => m.body));
    return ids;
  };

  it("is a tenant setting per channel, priority by default, validated", async () => {
    expect((await call("GET", "/api/settings", { key })).json.routing).toMatchObject({ email: "priority", sms: "priority" });
    const bad = await call("PATCH", "/api/settings", { key, body: { routing: { sms: "random" } } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("routing.sms");
    const ok = await call("PATCH", "/api/settings", { key, body: { routing: { sms: "weighted" } } });
    expect(ok.json.routing).toMatchObject({ email: "priority", sms: "weighted" });
    const weight = await call("POST", "/api/providers", { key, body: TWILIO({ settings: { from: "+14155550100", weight: -1 } }) });
    expect(weight.status).toBe(422);
    expect(weight.json.errors[0].field).toBe("settings.weight");
  });

  it("sends each message through one provider drawn by weight; priority routing keeps to the first", async () => {
    await addProvider(key, twilioAt("https://one.mock", 1, 1));
    await addProvider(key, twilioAt("https://two.mock", 2, 1));
    const net = mockProviders({ "https://one.mock": twilioAccepts("SM-one"), "https://two.mock": twilioAccepts("SM-two") });

    await sendSms(10);
    expect(new Set(net.requests.map((r) => new URL(r.url).origin))).toEqual(new Set(["https://one.mock"]));

    await call("PATCH", "/api/settings", { key, body: { routing: { sms: "weighted" } } });
    net.requests.length = 0;
    await sendSms(40);
    const origins = net.requests.map((r) => new URL(r.url).origin);
    expect(origins).toHaveLength(40);
    const one = origins.filter((o) => o === "https://one.mock").length;
    expect(one).toBeGreaterThan(8);
    expect(one).toBeLessThan(32);
  });

  it("still fails over to the next provider in priority order when the drawn one fails", async () => {
    await call("PATCH", "/api/settings", { key, body: { routing: { sms: "weighted" } } });
    await addProvider(key, twilioAt("https://one.mock", 1, 1));
    await addProvider(key, twilioAt("https://two.mock", 2, 1));
    const net = mockProviders({ "https://one.mock": twilioAccepts("SM-one"), "https://two.mock": json(503, { code: 20500, message: "down" }) });

    const ids = await sendSms(30);
    const details = await Promise.all(ids.map(async (id) => (await call("GET", `/api/communications/${id}`, { key })).json));
    expect(details.every((d) => d.status === "sent" && d.providerMessageId === "SM-one")).toBe(true);
    const failedOver = details.filter((d) => d.events.some((e: { kind: string }) => e.kind === "failover"));
    // Those drawn to the failing provider went to the other one within the same attempt.
    expect(failedOver.length).toBeGreaterThan(0);
    expect(net.requests.filter((r) => r.url.startsWith("https://two.mock"))).toHaveLength(failedOver.length);
  });
});
