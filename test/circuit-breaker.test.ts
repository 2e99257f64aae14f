import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts, testEnv } from "./helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;
let primary: { id: string };
let secondary: { id: string };

const email = (priority: number, host: string, settings: Record<string, unknown> = {}) =>
  SENDGRID({ priority, settings: { from: "billing@acme.test", baseUrl: `https://${host}`, ...settings } });

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  primary = await addProvider(key, email(1, "primary.mock", { breaker: { failures: 3, cooldownSeconds: 120 } }));
  secondary = await addProvider(key, email(2, "secondary.mock"));
});

async function send(n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "email", recipientContact: `r${i}@example.com`, subject: "Hi", content: "Hello" } });
    expect(res.status, res.text).toBe(201);
    ids.push(res.json.id);
    // One at a time: each delivery sees the streak the previous one left.
    await runDelivery(queue.drain().map((m) => m.body));
  }
  return ids;
}

const hosts = (requests: { url: string }[]) => requests.map((r) => new URL(r.url).host);
const health = async (id: string) => {
  const res = await call("GET", "/api/providers", { key });
  return res.json.results.find((p: { id: string }) => p.id === id).health;
};
/** The cool-down passes: moved into the past rather than waited for. */
const coolDown = (id: string) => testEnv.DB.prepare("UPDATE provider_config SET breaker_open_until = ?1 WHERE id = ?2").bind(Date.now() - 1000, id).run();

describe("circuit breaker on failed calls", () => {
  it("opens after the configured failures in a row, so later messages skip the failing provider", async () => {
    const net = mockProviders({ "https://primary.mock": () => new Response("down", { status: 503 }), "https://secondary.mock": sendgridAccepts("sg-2") });
    const ids = await send(5);
    // Three messages pay for the outage; after that the primary goes last and is not called.
    expect(hosts(net.requests)).toEqual([
      ...Array(3).fill(["primary.mock", "secondary.mock"]).flat(),
      "secondary.mock",
      "secondary.mock",
    ]);
    for (const id of ids) expect((await call("GET", `/api/communications/${id}`, { key })).json).toMatchObject({ status: "sent", providerConfigId: secondary.id });
    const h = await health(primary.id);
    expect(h.failureStreak).toBe(3);
    expect(Date.parse(h.breakerOpenUntil)).toBeGreaterThan(Date.now() + 100_000);

    const third = (await call("GET", `/api/communications/${ids[2]}`, { key })).json;
    expect(third.events.find((e: { kind: string; detail: { breaker?: string } | null }) => e.detail?.breaker === "open")).toMatchObject({
      kind: "note",
      providerConfigId: primary.id,
      error: "circuit breaker opened: 3 failed calls in a row; sendgrid goes last for 120 s",
    });
  });

  it("tries the provider again after the cool-down and closes on success (half-open → closed)", async () => {
    let down = true;
    const net = mockProviders({
      "https://primary.mock": () => (down ? new Response("down", { status: 503 }) : new Response(null, { status: 202, headers: { "x-message-id": "sg-1" } })),
      "https://secondary.mock": sendgridAccepts("sg-2"),
    });
    await send(3);
    await coolDown(primary.id);
    down = false;
    net.requests.length = 0;
    const [id] = await send(1);
    expect(hosts(net.requests)).toEqual(["primary.mock"]);
    expect((await call("GET", `/api/communications/${id}`, { key })).json).toMatchObject({ providerConfigId: primary.id });
    expect(await health(primary.id)).toEqual({ failureStreak: 0, silentStreak: 0, breakerOpenUntil: null });
  });

  it("opens again at the first failure after the cool-down (half-open → open)", async () => {
    const net = mockProviders({ "https://primary.mock": () => new Response("down", { status: 503 }), "https://secondary.mock": sendgridAccepts("sg-2") });
    await send(3);
    await coolDown(primary.id);
    net.requests.length = 0;
    await send(2);
    // One probe fails, the breaker is open again, the next message goes straight to the secondary.
    expect(hosts(net.requests)).toEqual(["primary.mock", "secondary.mock", "secondary.mock"]);
    expect((await health(primary.id)).failureStreak).toBe(4);
  });

  it("does not count a message's own rejection against the provider", async () => {
    mockProviders({
      "https://primary.mock": () => Response.json({ errors: [{ message: "Does not contain a valid address.", field: "personalizations.0.to.0.email" }] }, { status: 400 }),
      "https://secondary.mock": sendgridAccepts("sg-2"),
    });
    await send(4);
    expect(await health(primary.id)).toEqual({ failureStreak: 0, silentStreak: 0, breakerOpenUntil: null });
  });

  it("resets the streak on an accepted send, so scattered failures never open it", async () => {
    let calls = 0;
    const net = mockProviders({
      // Every other call fails: never three in a row.
      "https://primary.mock": () => (++calls % 2 ? new Response("down", { status: 503 }) : new Response(null, { status: 202, headers: { "x-message-id": `sg-${calls}` } })),
      "https://secondary.mock": sendgridAccepts("sg-2"),
    });
    await send(6);
    expect(net.requests.filter((r) => new URL(r.url).host === "primary.mock")).toHaveLength(6);
    expect((await health(primary.id)).breakerOpenUntil).toBeNull();
  });

  it("refuses bad breaker settings naming the field", async () => {
    const res = await call("POST", "/api/providers", { key, body: email(3, "third.mock", { breaker: { failures: 0 } }) });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining("settings.breaker.failures") })]));
  });
});
