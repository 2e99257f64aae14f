import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, TWILIO, twilioAccepts } from "./helpers";
import { twilioHeaders } from "./signing";

let key: string;
let queue: ReturnType<typeof captureQueue>;
let primary: { id: string; webhookUrl: string };
let secondary: { id: string; webhookUrl: string };

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  const twilio = (priority: number, host: string) => ({
    channel: "sms",
    provider: "twilio",
    priority,
    credentials: TWILIO().credentials,
    settings: { from: "+14155550100", baseUrl: `https://${host}` },
  });
  primary = await addProvider(key, twilio(1, "primary.mock"));
  secondary = await addProvider(key, twilio(2, "secondary.mock"));
});

const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
const providers = () =>
  mockProviders({ "https://primary.mock": twilioAccepts("SM-primary"), "https://secondary.mock": twilioAccepts("SM-secondary") });

async function sendOtp(extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/communications/send", { key, body: { channel: "sms", type: "otp", recipientContact: "+14155550123", content: "Your code is 123456", ...extra } });
  expect(res.status, res.text).toBe(201);
  await runDelivery(queue.drain().map((m) => m.body));
  return res.json.id as string;
}

async function receipt(provider: { webhookUrl: string }, id: string, sid: string, status = "delivered") {
  const url = `${provider.webhookUrl}?c=${id}`;
  const form = new URLSearchParams({ MessageSid: sid, MessageStatus: status });
  const res = await exports.default.fetch(url, { method: "POST", body: form.toString(), headers: await twilioHeaders("twilio-auth-token", url, form) });
  return (await res.json()) as { moved: number };
}

describe("failover on silence", () => {
  it("sends through the next provider when the first stays silent past the window", async () => {
    const net = providers();
    const id = await sendOtp({ receiptWindowSeconds: 30 });
    const [check] = queue.drain();
    expect(check).toMatchObject({ delaySeconds: 30, body: { communicationId: id, check: { providerConfigId: primary.id, windowSeconds: 30 } } });

    await runDelivery([check!.body]);
    expect(net.requests.map((r) => new URL(r.url).host)).toEqual(["primary.mock", "secondary.mock"]);
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", providerConfigId: secondary.id, providerMessageId: "SM-secondary" });
    const failover = d.events.find((e: { kind: string; detail: { silent?: boolean } | null }) => e.kind === "failover" && e.detail?.silent);
    expect(failover).toMatchObject({ error: "no delivery receipt from twilio within 30 s", providerConfigId: secondary.id });
    expect(d.events.filter((e: { kind: string }) => e.kind === "attempt")).toHaveLength(2);

    const stats = await call("GET", "/api/communications/stats", { key });
    expect(stats.json.silentFailovers).toEqual([{ providerConfigId: primary.id, provider: "twilio", count: 1 }]);
    expect(stats.json.totalSent).toBe(1);

    // The first receipt from either provider makes it delivered; a late one changes nothing.
    expect((await receipt(primary, id, "SM-primary")).moved).toBe(1);
    expect((await receipt(secondary, id, "SM-secondary")).moved).toBe(0);
    // The detail names the provider that delivered it: here the slow primary, after all.
    expect(await detail(id)).toMatchObject({ status: "delivered", providerConfigId: primary.id });
  });

  it("does nothing when the receipt arrives inside the window: exactly one provider call", async () => {
    const net = providers();
    const id = await sendOtp();
    const [check] = queue.drain();
    expect(check!.delaySeconds).toBe(60);
    await receipt(primary, id, "SM-primary");
    const { result } = await runDelivery([check!.body]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(net.requests).toHaveLength(1);
    expect((await detail(id)).status).toBe("delivered");
  });

  it("does not wait when the window is off, nor for the last provider", async () => {
    providers();
    await sendOtp({ receiptWindowSeconds: 0 });
    expect(queue.sent).toHaveLength(0);
    await sendOtp({ type: "invoice" });
    expect(queue.sent).toHaveLength(0);
    await call("DELETE", `/api/providers/${secondary.id}`, { key });
    await sendOtp();
    expect(queue.sent).toHaveLength(0);
  });

  it("keeps waiting on the silent provider when no other provider takes the message", async () => {
    mockProviders({ "https://primary.mock": twilioAccepts("SM-primary"), "https://secondary.mock": () => new Response("down", { status: 503 }) });
    const id = await sendOtp();
    await runDelivery(queue.drain().map((m) => m.body));
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", providerConfigId: primary.id });
    expect(d.events.at(-1).error).toMatch(/still waiting on twilio/);
    expect((await receipt(primary, id, "SM-primary")).moved).toBe(1);
  });

  it("fails over at once from a primary that hangs, without waiting for a window", async () => {
    await call("PATCH", `/api/providers/${primary.id}`, { key, body: { settings: { from: "+14155550100", baseUrl: "https://primary.mock", timeoutMs: 100 } } });
    mockProviders({
      "https://primary.mock": (req) => new Promise((_, reject) => req.signal?.addEventListener("abort", () => reject(req.signal!.reason))),
      "https://secondary.mock": twilioAccepts("SM-secondary"),
    });
    const id = await sendOtp();
    expect(await detail(id)).toMatchObject({ status: "sent", providerConfigId: secondary.id });
  });

  it("opens the breaker after repeated silence, so the next messages start with the healthy provider", async () => {
    const net = providers();
    for (let i = 0; i < 3; i++) {
      await sendOtp();
      await runDelivery(queue.drain().map((m) => m.body));
    }
    net.requests.length = 0;
    const id = await sendOtp();
    expect(net.requests.map((r) => new URL(r.url).host)).toEqual(["secondary.mock"]);
    expect((await detail(id)).providerConfigId).toBe(secondary.id);

    // A receipt from the primary closes its breaker again.
    const first = (await call("GET", "/api/communications?size=100", { key })).json.results.at(-1);
    await receipt(primary, first.id, "SM-primary");
    net.requests.length = 0;
    queue.drain();
    await sendOtp();
    expect(net.requests.map((r) => new URL(r.url).host)).toEqual(["primary.mock"]);
  });

  it("takes per-type windows from the tenant's settings", async () => {
    providers();
    const set = await call("PATCH", "/api/settings", { key, body: { receiptWindows: { invoice_reminder: 120, otp: 0 } } });
    expect(set.json.receiptWindows).toMatchObject({ invoice_reminder: 120, otp: 0, one_time_code: 60 });
    await sendOtp();
    expect(queue.sent).toHaveLength(0);
    await sendOtp({ type: "invoice_reminder" });
    expect(queue.drain()[0]!.delaySeconds).toBe(120);
  });
});

describe("providers that report delivery", () => {
  it("include Twilio, which is given our receipt URL on every send", async () => {
    const { PROVIDERS } = await import("../src/channels/registry");
    expect(PROVIDERS.twilio.reportsDelivery?.({}, {})).toBe(true);
  });

  // A provider reports only when Herald can accept its webhooks: their secret must be configured.
  it.each([
    ["vonage", {}, { signatureSecret: "s" }],
    ["mailgun", {}, { webhookSigningKey: "k" }],
    ["postmark", {}, { webhookUsername: "u", webhookPassword: "p".repeat(16) }],
    ["resend", {}, { webhookSecret: "whsec_abc" }],
    ["meta_whatsapp", { webhookVerifyToken: "verify-me" }, { appSecret: "a" }],
    ["meta_messenger", { webhookVerifyToken: "verify-me" }, { appSecret: "a" }],
  ] as const)("include %s once its webhook secrets are configured", async (kind, settings, credentials) => {
    const { PROVIDERS } = await import("../src/channels/registry");
    const reports = PROVIDERS[kind].reportsDelivery!;
    expect(reports(settings, credentials)).toBe(true);
    expect(reports(settings, {})).toBe(false);
    expect(reports({}, credentials)).toBe(kind.startsWith("meta") ? false : true);
  });
});
