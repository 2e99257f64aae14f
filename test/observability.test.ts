import { beforeEach, describe, expect, it, vi } from "vitest";
import { exports } from "cloudflare:workers";
import { sendgridSigner } from "./signing";
import { ADMIN, addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts } from "./helpers";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE}-00f067aa0ba902b7-01`;

let logs: string[];
let queue: ReturnType<typeof captureQueue>;

beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  logs = [];
  for (const level of ["log", "error", "warn", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logs.push(args.map(String).join(" ")));
  }
});

const lines = () => logs.flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; } });

describe("structured logs", () => {
  it("log one JSON line per request with its request id, the caller's trace id, route pattern, status and tenant", async () => {
    const { key, tenantId } = await createTenant();
    logs.length = 0;
    const res = await call("GET", "/api/communications?size=5", { key, headers: { traceparent: TRACEPARENT } });
    expect(res.status).toBe(200);
    const [line, ...rest] = lines().filter((l) => l.msg === "request");
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ requestId: res.headers.get("x-request-id"), traceId: TRACE, method: "GET", route: "/api/communications", status: 200, tenantId });
    expect(line!.durationMs).toEqual(expect.any(Number));
  });

  it("start a new trace for a missing or malformed traceparent, and log route patterns rather than raw paths", async () => {
    await call("GET", "/health", { headers: { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" } });
    await call("GET", "/u/a-secret-looking-token");
    const [health, unsubscribe] = lines().filter((l) => l.msg === "request");
    expect(health!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(health!.traceId).not.toBe("0".repeat(32));
    expect(unsubscribe).toMatchObject({ route: "/u/:token", status: 404 });
    expect(logs.join("\n")).not.toContain("a-secret-looking-token");
  });

  it("put the request id in problem bodies and the x-request-id header", async () => {
    const { key } = await createTenant();
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "email" } });
    expect(res.status).toBe(422);
    expect(res.json.requestId).toBe(res.headers.get("x-request-id"));
    expect(lines().find((l) => l.msg === "request" && l.status === 422)?.requestId).toBe(res.json.requestId);
  });

  it("carry the trace id from the send to the consumer's delivery line, and never log keys, credentials or whole contacts", async () => {
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const { key, tenantId } = await createTenant();
    const credential = "SG.super-secret-credential-value";
    await addProvider(key, SENDGRID({ credentials: { apiKey: credential } }));
    const admin = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: "ci", scopes: ["communications:send"] } });
    expect(admin.status).toBe(201);
    const contact = "ada.lovelace@example.com";
    const sent = await call("POST", "/api/communications/send", {
      key,
      headers: { traceparent: TRACEPARENT },
      body: { channel: "email", recipientContact: contact, recipientName: "Ada Lovelace", subject: "Invoice", content: "Dear Ada" },
    });
    expect(sent.status, sent.text).toBe(201);
    const messages = queue.drain().map((m) => m.body);
    expect(messages).toEqual([expect.objectContaining({ communicationId: sent.json.id, traceId: TRACE })]);
    await runDelivery(messages);

    const delivery = lines().find((l) => l.msg === "delivery");
    expect(delivery).toMatchObject({ communicationId: sent.json.id, tenantId, traceId: TRACE, action: "ack", status: "sent", provider: "sendgrid" });
    const all = logs.join("\n");
    for (const secret of [key, admin.json.apiKey, credential, ADMIN, contact, "Ada Lovelace", "Dear Ada", "Bearer"]) {
      expect(all).not.toContain(secret);
    }
  });

  it("log the provider webhook with the communication ids it moved and the tenant", async () => {
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const { key, tenantId } = await createTenant();
    const signer = await sendgridSigner();
    const provider = await addProvider(key, SENDGRID({ settings: { from: "billing@acme.test", baseUrl: "https://sendgrid.mock", webhookVerificationKey: signer.verificationKey } }));
    const sent = await call("POST", "/api/communications/send", { key, body: { channel: "email", recipientContact: "ann@example.com", subject: "Hi", content: "Hello" } });
    await runDelivery(queue.drain().map((m) => m.body));
    logs.length = 0;
    const body = JSON.stringify([{ email: "ann@example.com", timestamp: Math.floor(Date.now() / 1000), event: "delivered", sg_event_id: "e1", sg_message_id: "sg-1.f", herald_communication_id: sent.json.id }]);
    const res = await exports.default.fetch(provider.webhookUrl, { method: "POST", body, headers: { ...(await signer.headers(body)), traceparent: TRACEPARENT } });
    expect(res.status).toBe(200);
    expect(lines().find((l) => l.msg === "provider webhook")).toMatchObject({
      tenantId,
      traceId: TRACE,
      provider: "sendgrid",
      moved: 1,
      events: [{ communicationId: sent.json.id, status: "delivered" }],
    });
    expect(lines().find((l) => l.msg === "request")).toMatchObject({ route: "/webhooks/:provider/:configId", tenantId, status: 200 });
    expect(logs.join("\n")).not.toContain("ann@example.com");
  });
});
