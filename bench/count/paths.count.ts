/**
 * `npm run bench -- --count`: what one message costs in billed calls on each path of its life,
 * with caches warm, for a single send and for a batch. Runs in workerd through the workers test
 * setup (real D1, the real Workers' handlers), counting the bindings with bench/count/counter.ts;
 * the queues are captured (test/helpers.ts) so each stage is handed to its consumer explicitly.
 * Prints one `HERALD_COUNT <json>` line that bench/count/print.mjs turns into the table.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, expect, it, vi } from "vitest";
import { addProvider, call, captureEvents, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, testEnv } from "../../test/helpers";
import { sendgridSigner } from "../../test/signing";
import { countBindings, type Counts } from "./counter";

const BATCH = 10;
const HOOK = "https://hooks.bench.test";

type Stage = { path: string; messages: number; counts: Counts };

type Tenant = { key: string; webhookUrl: string; signer: Awaited<ReturnType<typeof sendgridSigner>> };
let plain: Tenant;
let hooked: Tenant;
const email = (n: number) => ({ channel: "email", recipientContact: `reader${n}@example.com`, subject: "Hi", content: "Hello" });
const templated = (n: number) => ({ channel: "email", recipientContact: `reader${n}@example.com`, templateCode: "welcome", templateVariables: { name: `Reader ${n}` } });

/** A tenant with a SendGrid config (signed receipts), a template and, if asked, a webhook endpoint. */
async function tenant(name: string, withEndpoint: boolean): Promise<Tenant> {
  const { key } = await createTenant(name);
  const signer = await sendgridSigner();
  const { webhookUrl } = await addProvider(key, SENDGRID({ settings: { from: "news@acme.test", baseUrl: "https://sendgrid.mock", webhookVerificationKey: signer.verificationKey } }));
  if (withEndpoint) {
    const hook = await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/herald` } });
    expect(hook.status, hook.text).toBe(201);
  }
  const template = await call("POST", "/api/communication-templates", {
    key,
    body: { name: "Welcome", code: "welcome", channel: "email", type: "welcome", subjectTemplate: "Welcome {{name}}", bodyTemplate: "Hello {{name}}", availableVariables: ["name"] },
  });
  expect(template.status, template.text).toBe(201);
  return { key, webhookUrl, signer };
}

beforeAll(async () => {
  plain = await tenant("bench count", false);
  hooked = await tenant("bench count, one webhook endpoint", true);
});

/** Lets work a response left behind (ctx.waitUntil) finish before the next stage is counted. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** One message's (or one batch's) whole life, stage by stage. */
async function lifecycle(t: Tenant, n: number, body: (i: number) => Record<string, unknown>, label: string): Promise<Stage[]> {
  const { key, webhookUrl, signer } = t;
  vi.restoreAllMocks();
  const queue = captureQueue();
  const events = captureEvents();
  let seq = 0;
  mockProviders({
    "https://sendgrid.mock": () => new Response(null, { status: 202, headers: { "x-message-id": `sg-bench-${++seq}-${Math.random()}` } }),
    [HOOK]: () => new Response("ok"),
  });
  const counter = countBindings(testEnv);
  const stages: Stage[] = [];
  const stage = async (path: string, messages: number, run: () => Promise<unknown>) => {
    await settle();
    counter.take();
    await run();
    stages.push({ path, messages, counts: counter.take() });
  };
  /** The events consumer on what is queued: status fan-outs first, then the webhook attempts they queue. */
  const fanOut = async (what: string) => {
    const statuses = events.drain();
    await stage(`fan-out: ${what}`, statuses.length, () => runDelivery(statuses, { queue: "herald-events" }));
    const attempts = events.drain();
    if (attempts.length) await stage(`webhook attempt: ${what}`, attempts.length, () => runDelivery(attempts, { queue: "herald-events" }));
  };
  try {
    let ids: string[] = [];
    await stage(label, n, async () => {
      const res =
        n === 1
          ? await call("POST", "/api/communications/send", { key, body: body(0) })
          : await call("POST", "/api/communications/batch", { key, body: { items: Array.from({ length: n }, (_, i) => body(i)) } });
      expect(res.status, res.text).toBe(201);
      ids = n === 1 ? [res.json.id] : res.json.results.map((r: { id: string }) => r.id);
    });
    const sends = queue.drain().map((m) => m.body);
    await stage("deliver", sends.length, () => runDelivery(sends));
    await fanOut("sent");
    const receipt = JSON.stringify(
      ids.map((id) => ({ email: "reader@example.com", timestamp: Math.floor(Date.now() / 1000), event: "delivered", sg_event_id: `d-${id}-${Math.random()}`, sg_message_id: "sg.x", herald_communication_id: id })),
    );
    const headers = await signer.headers(receipt);
    await stage("receipt (provider webhook)", ids.length, async () => {
      const res = await exports.default.fetch(webhookUrl, { method: "POST", body: receipt, headers });
      expect(res.status, await res.text()).toBe(200);
    });
    await fanOut("delivered");
    // Follow-ups (receipt checks, a retry) would cost more: say so rather than drop them.
    for (const left of queue.drain()) console.warn(`left on the send queue: ${JSON.stringify(left.body)}`);
  } finally {
    counter.restore();
  }
  return stages;
}

/** The stages of one run whose path is one of these. */
const only = (stages: Stage[], ...paths: string[]) => stages.filter((s) => paths.includes(s.path));

it("counts billed calls per message on each path", async () => {
  // Warm: the tenants', providers', templates' and endpoints' caches, and the isolates.
  for (const t of [plain, hooked]) {
    await lifecycle(t, 1, templated, "accept");
    await lifecycle(t, BATCH, email, "accept");
  }
  const measure = async (n: number) => [
    ...(await lifecycle(plain, n, email, "accept")),
    ...only(await lifecycle(plain, n, templated, "accept with a template"), "accept with a template"),
    ...only(await lifecycle(hooked, n, email, "accept"), "fan-out: sent", "webhook attempt: sent").map((s) => ({
      ...s,
      path: s.path.startsWith("fan-out") ? "fan-out, one endpoint subscribed" : "webhook attempt (one endpoint)",
    })),
  ];
  const runs = { single: await measure(1), batch: await measure(BATCH) };
  console.log(`HERALD_COUNT ${JSON.stringify({ batch: BATCH, runs })}`);
}, 120_000);
