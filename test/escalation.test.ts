import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, runDelivery } from "./helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "sms", provider: "sandbox" });
  await addProvider(key, { channel: "email", provider: "sandbox", settings: { outcome: "sent" } });
  await call("PATCH", "/api/communication-preferences/user/u1", { key, body: { preferredPhone: "+14155550123", preferredEmail: "u1@example.com" } });
});

const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
const list = async () => (await call("GET", "/api/communications?size=100", { key })).json.results as { id: string; channel: string; originalCommunicationId: string | null; content: string }[];

async function send(body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body: { recipientType: "user", recipientId: "u1", ...body } });
  expect(res.status, res.text).toBe(201);
  const [first, ...rest] = queue.drain();
  await runDelivery([first!.body]);
  return { id: res.json.id as string, escalation: rest };
}

describe("channel escalation", () => {
  it("sends the SMS when the in-app message is not read in time", async () => {
    const { id, escalation } = await send({ channel: "in_app", subject: "Payment due", content: "Invoice 7 is due", fallback: { channel: "sms", afterSeconds: 600, until: "opened" } });
    expect(escalation).toEqual([expect.objectContaining({ delaySeconds: 600, body: expect.objectContaining({ escalate: expect.objectContaining({ channel: "sms" }) }) })]);
    expect((await detail(id)).events.find((e: { kind: string }) => e.kind === "note").detail.reason).toBe("escalates to sms unless opened within 600 s");

    await runDelivery([escalation[0]!.body]);
    const sms = (await list()).find((c) => c.channel === "sms")!;
    expect(sms).toMatchObject({ originalCommunicationId: id, content: "Invoice 7 is due" });
    expect((await detail(id)).events.at(-1)).toMatchObject({ kind: "note", error: "escalated to sms: not opened within 600 s", detail: { escalatedTo: sms.id } });

    // The same message delivered again (at least once) does not escalate twice.
    await runDelivery([escalation[0]!.body]);
    expect((await list()).filter((c) => c.channel === "sms")).toHaveLength(1);
    await runDelivery(queue.drain().map((m) => m.body));
    expect((await detail(sms.id)).status).toBe("delivered");
  });

  it("does not escalate once the message was read", async () => {
    const { id, escalation } = await send({ channel: "in_app", content: "Hello", fallback: { channel: "sms", afterSeconds: 60, until: "opened" } });
    const token = (await call("POST", "/api/inbox/tokens", { key, body: { recipientType: "user", recipientId: "u1" } })).json.token;
    await call("POST", "/api/inbox/items/mark", { headers: { authorization: `Bearer ${token}` }, body: { ids: [id], action: "read" } });
    await runDelivery([escalation[0]!.body]);
    expect((await list()).filter((c) => c.channel === "sms")).toHaveLength(0);
  });

  it("escalates an undelivered email to SMS, rendering the same template for the new channel", async () => {
    await call("POST", "/api/communication-templates", { key, body: { name: "Due", code: "due", channel: "email", type: "invoice_reminder", subjectTemplate: "Invoice {{n}}", bodyTemplate: "<p>Invoice {{n}} is due</p>" } });
    await call("POST", "/api/communication-templates", { key, body: { name: "Due", code: "due", channel: "sms", type: "invoice_reminder", bodyTemplate: "Invoice {{n}} is due (SMS)" } });
    const { id, escalation } = await send({ channel: "email", templateCode: "due", templateVariables: { n: 42 }, fallback: { channel: "sms", afterSeconds: 300 } });
    expect((await detail(id)).status).toBe("sent");
    await runDelivery([escalation[0]!.body]);
    expect((await list()).find((c) => c.channel === "sms")!.content).toBe("Invoice 42 is due (SMS)");
  });

  it("waits while the original is held for quiet hours: the clock starts when it goes out", async () => {
    const h = new Date().getUTCHours();
    const hh = (n: number) => String((n + 24) % 24).padStart(2, "0") + ":00";
    await call("PATCH", "/api/communication-preferences/user/u1", { key, body: { timezone: "UTC", quietHours: { start: hh(h - 1), end: hh(h + 2) } } });
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "email", recipientType: "user", recipientId: "u1", subject: "s", content: "x", fallback: { channel: "sms", afterSeconds: 60 } } });
    expect(res.json.status).toBe("scheduled");
    const escalation = queue.drain().find((m) => m.body.escalate)!;
    await runDelivery([escalation.body]);
    expect((await list()).filter((c) => c.channel === "sms")).toHaveLength(0);
    const again = queue.drain();
    expect(again).toHaveLength(1);
    expect(again[0]!.delaySeconds).toBeGreaterThan(3600 + 60 - 5);
  });

  it("counts escalations against the month's quota", async () => {
    const { ADMIN } = await import("./helpers");
    const { id, escalation } = await send({ channel: "email", subject: "s", content: "x", fallback: { channel: "sms", afterSeconds: 60 } });
    const tenant = (await call("GET", `/api/communications/${id}`, { key })).json.tenantId as string;
    await call("PATCH", `/admin/tenants/${tenant}`, { key: ADMIN, body: { quotas: { sms: 1 } } });
    await send({ channel: "sms", content: "uses the quota" });
    await runDelivery([escalation[0]!.body]);
    expect((await list()).filter((c) => c.channel === "sms")).toHaveLength(1);
    expect((await detail(id)).events.at(-1).error).toMatch(/^could not escalate to sms: .*quota/);
  });

  it("records why it could not escalate, and validates the fallback", async () => {
    await call("PATCH", "/api/communication-preferences/user/u1", { key, body: { preferredPhone: null } });
    const { id, escalation } = await send({ channel: "email", subject: "s", content: "x", fallback: { channel: "sms", afterSeconds: 60 } });
    await runDelivery([escalation[0]!.body]);
    expect((await detail(id)).events.at(-1).error).toMatch(/^could not escalate to sms: .*no preferred sms contact/);

    const same = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientId: "u1", recipientType: "user", content: "x", fallback: { channel: "sms", afterSeconds: 60 } } });
    expect(same.json.errors[0].field).toBe("fallback");
    const tooSoon = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550123", content: "x", fallback: { channel: "email", afterSeconds: 5 } } });
    expect(tooSoon.json.errors[0].field).toBe("fallback.afterSeconds");
  });
});
