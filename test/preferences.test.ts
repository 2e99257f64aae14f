import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts, TWILIO } from "./helpers";
import { twilioHeaders } from "./signing";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  for (const channel of ["email", "sms", "whatsapp"]) await addProvider(key, { channel, provider: "sandbox" });
});

const prefs = (id: string, body: Record<string, unknown>) => call("PATCH", `/api/communication-preferences/customer/${id}`, { key, body });
const send = (body: Record<string, unknown>) => call("POST", "/api/communications/send", { key, body });
const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
const ann = { preferredEmail: "Ann@Example.com", preferredPhone: "+1 415 555 0123" };

describe("preferences API", () => {
  it("returns defaults for an unknown recipient and merges a PATCH without clobbering", async () => {
    const fresh = await call("GET", "/api/communication-preferences/customer/c-new", { key });
    expect(fresh.json).toMatchObject({ exists: false, emailEnabled: true, smsEnabled: true, preferences: {} });

    await prefs("c1", { emailEnabled: false, preferences: { invoice: ["email"], payment_reminder: ["sms"] } });
    const second = await prefs("c1", { ...ann, preferences: { invoice: ["email", "whatsapp"] } });
    expect(second.json).toMatchObject({
      exists: true,
      emailEnabled: false,
      preferredEmail: "ann@example.com",
      preferredPhone: "+14155550123",
      preferences: { invoice: ["email", "whatsapp"], payment_reminder: ["sms"] },
    });
    const third = await prefs("c1", { preferences: { payment_reminder: null }, locale: "fr-CA" });
    expect(third.json.preferences).toEqual({ invoice: ["email", "whatsapp"] });
    expect(third.json).toMatchObject({ locale: "fr-CA", emailEnabled: false });
  });

  it("names the field on bad input", async () => {
    for (const [body, field] of [
      [{ timezone: "Mars/Olympus" }, "timezone"],
      [{ quietHours: { start: "25:00", end: "07:00" } }, "quietHours.start"],
      [{ preferredPhone: "12345" }, "preferredPhone"],
      [{ preferences: { invoice: ["fax"] } }, "preferences.invoice.0"],
      [{ colour: "blue" }, "(body)"],
    ] as const) {
      const res = await prefs("c2", body);
      expect(res.status, field).toBe(422);
      expect(res.json.errors[0].field).toBe(field);
    }
  });

  it("keeps preferences per tenant", async () => {
    await prefs("c3", { emailEnabled: false });
    const other = await createTenant("Other");
    const theirs = await call("GET", "/api/communication-preferences/customer/c3", { key: other.key });
    expect(theirs.json).toMatchObject({ exists: false, emailEnabled: true });
  });
});

describe("enforcement on every send", () => {
  it("takes the contact from the recipient's preferred fields", async () => {
    await prefs("c1", ann);
    const res = await send({ channel: "email", recipientId: "c1", subject: "Hi", content: "x" });
    expect(res.status, res.text).toBe(201);
    expect(res.json.communication.recipientContact).toBe("ann@example.com");
    const none = await send({ channel: "whatsapp", recipientId: "nobody", content: "x" });
    expect(none.status).toBe(422);
    expect(none.json.errors[0].field).toBe("recipientContact");
  });

  it.each([
    [{ optedOut: true, optedOutReason: "asked by phone" }, "email", "invoice", /opted out: asked by phone/],
    [{ emailEnabled: false }, "email", "invoice", /disabled email/],
    [{ preferences: { invoice: ["sms"] } }, "email", "invoice", /does not want invoice on email/],
  ])("records a send blocked by %j as suppressed with the reason, never sent", async (p, channel, type, reason) => {
    await prefs("c1", { ...ann, ...p });
    const res = await send({ channel, type, recipientId: "c1", subject: "s", content: "x" });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: "suppressed", reason: expect.stringMatching(reason) });
    expect(queue.sent).toHaveLength(0);
    const d = await detail(res.json.id);
    expect(d.events.at(-1)).toMatchObject({ kind: "status", status: "suppressed" });
  });

  it("lets required types past channel and type preferences, but never past an opt-out", async () => {
    await prefs("c1", { ...ann, emailEnabled: false, preferences: { password_reset: ["sms"] } });
    const reset = await send({ channel: "email", type: "password_reset", recipientId: "c1", subject: "Reset", content: "x" });
    expect(reset.json.status).toBe("queued");
    await prefs("c1", { optedOut: true });
    const blocked = await send({ channel: "email", type: "password_reset", recipientId: "c1", subject: "Reset", content: "x" });
    expect(blocked.json.status).toBe("suppressed");
  });

  it("checks again at delivery: an opt-out after acceptance stops the send", async () => {
    await prefs("c1", ann);
    const res = await send({ channel: "sms", recipientId: "c1", content: "x" });
    await prefs("c1", { smsEnabled: false });
    await runDelivery(queue.drain().map((m) => m.body));
    expect(await detail(res.json.id)).toMatchObject({ status: "suppressed", errorMessage: "suppressed: recipient disabled sms", sentAt: null });
  });
});

describe("routing by preference", () => {
  it("sends on each preferred channel for the type, or only the first", async () => {
    await prefs("c1", { ...ann, preferences: { invoice: ["whatsapp", "email"] } });
    const all = await send({ channel: "auto", type: "invoice", recipientId: "c1", subject: "Invoice", content: "x" });
    expect(all.status, all.text).toBe(201);
    expect(all.json.results.map((r: { channel: string }) => r.channel)).toEqual(["whatsapp", "email"]);
    expect(all.json.communications.map((c: { recipientContact: string }) => c.recipientContact)).toEqual(["+14155550123", "ann@example.com"]);
    const first = await send({ channel: "auto", type: "invoice", strategy: "first", recipientId: "c1", subject: "Invoice", content: "x" });
    expect(first.json.results.map((r: { channel: string }) => r.channel)).toEqual(["whatsapp"]);
  });

  it("routes among given channels, skipping disabled ones and channels without a provider", async () => {
    await prefs("c1", { ...ann, smsEnabled: false });
    const res = await send({ channels: ["sms", "email", "messenger"], recipientId: "c1", subject: "s", content: "x" });
    expect(res.json.results.map((r: { channel: string }) => r.channel)).toEqual(["email"]);
  });

  it("records an opted-out recipient's routed send as suppressed", async () => {
    await prefs("c1", { ...ann, optedOut: true });
    const res = await send({ channel: "auto", recipientId: "c1", subject: "s", content: "x" });
    expect(res.json.results).toEqual([expect.objectContaining({ status: "suppressed" })]);
  });

  it("validates routing requests", async () => {
    const noRecipient = await send({ channel: "auto", content: "x" });
    expect(noRecipient.json.errors[0].field).toBe("recipientId");
    const both = await send({ channel: "sms", channels: ["sms"], recipientId: "c1", content: "x" });
    expect(both.json.errors[0].field).toBe("channels");
  });
});

describe("quiet hours", () => {
  const windowAroundNow = () => {
    const h = new Date().getUTCHours();
    const hh = (n: number) => String((n + 24) % 24).padStart(2, "0") + ":00";
    return { start: hh(h - 1), end: hh(h + 2) };
  };

  it("holds non-urgent sends until the recipient's window ends, and lets urgent ones through", async () => {
    await prefs("c1", { ...ann, timezone: "UTC", quietHours: windowAroundNow() });
    const held = await send({ channel: "sms", recipientId: "c1", content: "x" });
    expect(held.json.status).toBe("scheduled");
    const until = Date.parse(held.json.estimatedSendTime);
    expect(until).toBeGreaterThan(Date.now() + 3600_000);
    expect(new Date(until).getUTCMinutes()).toBe(0);
    expect(queue.sent[0]!.delaySeconds).toBeGreaterThan(3600);
    const note = (await detail(held.json.id)).events.find((e: { kind: string }) => e.kind === "note");
    expect(note.detail.reason).toMatch(/^held for quiet hours \(\d\d:00–\d\d:00 UTC\)/);

    const urgent = await send({ channel: "sms", recipientId: "c1", content: "x", priority: "urgent" });
    expect(urgent.json.status).toBe("queued");
  });

  it("applies the tenant's default window to everyone without their own, and a recipient's own window wins", async () => {
    const settings = await call("PATCH", "/api/settings", { key, body: { preferences: { timezone: "UTC", quietHours: windowAroundNow() } } });
    expect(settings.json.preferences.quietHours).toEqual(windowAroundNow());
    expect((await send({ channel: "sms", recipientContact: "+14155550123", content: "x" })).json.status).toBe("scheduled");
    await prefs("c9", { preferredPhone: "+14155550199" });
    expect((await send({ channel: "sms", recipientId: "c9", content: "x" })).json.status).toBe("scheduled");
    // A night owl's own window (always outside now) overrides the tenant's.
    const h = new Date().getUTCHours();
    const hh = (n: number) => String((n + 24) % 24).padStart(2, "0") + ":00";
    await prefs("c10", { preferredPhone: "+14155550198", quietHours: { start: hh(h + 3), end: hh(h + 4) } });
    expect((await send({ channel: "sms", recipientId: "c10", content: "x" })).json.status).toBe("queued");
  });

  it("checks again at delivery: a window set after the send was accepted holds it, without calling a provider", async () => {
    await prefs("c1", { ...ann, timezone: "UTC" });
    const accepted = await send({ channel: "sms", recipientId: "c1", content: "x" });
    expect(accepted.json.status).toBe("queued");
    await prefs("c1", { quietHours: windowAroundNow() });
    const { retrySpies } = await runDelivery(queue.drain().map((m) => m.body));
    const d = await detail(accepted.json.id);
    expect(d.status).toBe("scheduled");
    const until = Date.parse(d.scheduledAt);
    expect(until).toBeGreaterThan(Date.now() + 3600_000);
    expect(d.events.filter((e: { kind: string }) => e.kind === "attempt")).toHaveLength(0);
    expect(d.events.find((e: { detail: { quietHours?: boolean } | null }) => e.detail?.quietHours)?.error).toMatch(/^held for quiet hours/);
    // The queue brings it back when the window ends (or hops there, past 12 h).
    expect(retrySpies[0]).toHaveBeenCalledOnce();
    expect(retrySpies[0]!.mock.calls[0]![0]!.delaySeconds).toBeGreaterThan(3600);

    // Urgent messages are not held at delivery either.
    const urgent = await send({ channel: "sms", recipientId: "c1", content: "y", priority: "urgent" });
    await runDelivery(queue.drain().map((m) => m.body));
    expect((await detail(urgent.json.id)).status).toBe("delivered");
  });
});

describe("one-click unsubscribe (RFC 8058)", () => {
  it("puts List-Unsubscribe on marketing email; a POST withdraws marketing consent only", async () => {
    await addProvider(key, SENDGRID({ priority: 0 }));
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    await prefs("c1", ann);
    await send({ channel: "email", type: "marketing", recipientId: "c1", subject: "Sale!", content: "<p>50% off</p>" });
    await send({ channel: "email", type: "invoice", recipientId: "c1", subject: "Invoice", content: "x" });
    await runDelivery(queue.drain().map((m) => m.body));
    // A batch calls its providers concurrently: find each request by its subject, not its order.
    const [marketing, invoice] = ["Sale!", "Invoice"].map((s) => JSON.parse(net.requests.find((r) => JSON.parse(r.body).subject === s)!.body));
    expect(marketing.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const link = /^<(https:\/\/herald\.test\/u\/[^>]+)>$/.exec(marketing.headers["List-Unsubscribe"])![1]!;
    expect(invoice.headers).toBeUndefined();

    const page = await exports.default.fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await call("GET", "/api/communication-preferences/customer/c1", { key })).json.marketingUnsubscribed).toEqual([]);

    const done = await exports.default.fetch(link, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(done.status).toBe(200);
    expect((await call("GET", "/api/communication-preferences/customer/c1", { key })).json.marketingUnsubscribed).toEqual(["email"]);
    const consents = await call("GET", "/api/communication-preferences/customer/c1/consents", { key });
    expect(consents.json.results).toEqual([expect.objectContaining({ channel: "email", scope: "marketing", status: "revoked", source: "list_unsubscribe" })]);

    expect((await send({ channel: "email", type: "marketing", recipientId: "c1", subject: "More!", content: "x" })).json.status).toBe("suppressed");
    expect((await send({ channel: "email", type: "invoice", recipientId: "c1", subject: "Invoice", content: "x" })).json.status).toBe("queued");

    const forged = link.replace(/.$/, (ch) => (ch === "A" ? "B" : "A"));
    expect((await exports.default.fetch(forged, { method: "POST" })).status).toBe(404);
  });
});

describe("SMS keywords", () => {
  it("STOP suppresses the number and records consent; START lifts it", async () => {
    const provider = await addProvider(key, TWILIO({ priority: 0 }));
    const url = `${provider.webhookUrl}/inbound`;
    const reply = async (body: string) => {
      const form = new URLSearchParams({ From: "+14155550123", To: "+14155550100", Body: body, MessageSid: `SMin-${body.trim()}` });
      const res = await exports.default.fetch(url, { method: "POST", body: form.toString(), headers: await twilioHeaders("twilio-auth-token", url, form) });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/xml");
    };
    await reply(" Stop ");
    const suppressed = await call("GET", `/api/suppressions?channel=sms&contact=${encodeURIComponent("+14155550123")}`, { key });
    expect(suppressed.json.results[0]).toMatchObject({ reason: "opt_out", detail: "replied STOP", source: "inbound" });

    mockProviders({});
    const res = await send({ channel: "sms", recipientContact: "+14155550123", content: "x" });
    await runDelivery(queue.drain().map((m) => m.body));
    expect((await detail(res.json.id)).status).toBe("suppressed");

    await call("POST", "/api/suppressions", { key, body: { channel: "sms", contact: "+14155550124", reason: "manual" } });
    await reply("START");
    // START answers the STOP; it does not lift entries made for other reasons.
    expect((await call("GET", "/api/suppressions?channel=sms", { key })).json.results.map((r: { contact: string }) => r.contact)).toEqual(["+14155550124"]);
    const trail = await call("GET", `/api/communication-preferences/contact/${encodeURIComponent("+14155550123")}/consents`, { key });
    expect(trail.json.results.map((c: { status: string }) => c.status)).toEqual(["revoked", "granted"]);

    const forged = new URLSearchParams({ From: "+14155550123", To: "+1", Body: "STOP" });
    const bad = await exports.default.fetch(url, { method: "POST", body: forged.toString(), headers: await twilioHeaders("wrong", url, forged) });
    expect(bad.status).toBe(403);
  });
});

describe("consent records", () => {
  it("keep an audit trail and update the preference they speak for", async () => {
    const revoked = await call("POST", "/api/communication-preferences/customer/c1/consents", {
      key,
      body: { channel: "sms", status: "revoked", source: "signup_form", ip: "203.0.113.9", userAgent: "Mozilla/5.0" },
    });
    expect(revoked.status).toBe(201);
    expect((await call("GET", "/api/communication-preferences/customer/c1", { key })).json.smsEnabled).toBe(false);
    await call("POST", "/api/communication-preferences/customer/c1/consents", { key, body: { channel: "sms", status: "granted", source: "settings_page" } });
    const trail = await call("GET", "/api/communication-preferences/customer/c1/consents", { key });
    expect(trail.json.results).toEqual([
      expect.objectContaining({ status: "revoked", scope: "all", ip: "203.0.113.9", source: "signup_form" }),
      expect.objectContaining({ status: "granted", source: "settings_page" }),
    ]);
    expect((await call("GET", "/api/communication-preferences/customer/c1", { key })).json.smsEnabled).toBe(true);
  });
});
