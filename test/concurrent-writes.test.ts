/**
 * Concurrent writers of one shared row (issue 19 items 1 and 5): many PATCHes at once through the
 * app's fetch, then nothing any of them was answered 200 for may be missing. The old code read the
 * row, merged in JS and wrote the whole row back, so the last writer erased the others.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, createTenant, TWILIO } from "./helpers";

let key: string;

beforeEach(async () => {
  ({ key } = await createTenant());
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("concurrent preference writes", () => {
  it("keeps an opt-out and every merged type under 50 concurrent PATCHes", async () => {
    const path = "/api/communication-preferences/customer/c-race";
    await call("PATCH", path, { key, body: { locale: "en-GB" } });
    const answers = await Promise.all([
      ...range(50).map((i) => call("PATCH", path, { key, body: { preferences: { [`type_${i}`]: ["email"] } } })),
      call("PATCH", path, { key, body: { optedOut: true, optedOutReason: "asked by phone" } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual(range(51).map(() => 200));
    const after = (await call("GET", path, { key })).json;
    expect(Object.keys(after.preferences).sort()).toEqual(range(50).map((i) => `type_${i}`).sort());
    expect(after.optedOutAt).not.toBeNull();
    expect(after.optedOutReason).toBe("asked by phone");
    expect(after.locale).toBe("en-GB");
  });

  it("keeps every consent record's effect when they arrive together with a PATCH", async () => {
    const path = "/api/communication-preferences/customer/c-consent";
    const answers = await Promise.all([
      ...(["email", "sms", "whatsapp"] as const).map((channel) =>
        call("POST", `${path}/consents`, { key, body: { channel, scope: "marketing", status: "revoked", source: "test" } }),
      ),
      call("POST", `${path}/consents`, { key, body: { channel: "push", scope: "all", status: "revoked", source: "test" } }),
      ...range(10).map((i) => call("PATCH", path, { key, body: { preferences: { [`t${i}`]: ["sms"] } } })),
    ]);
    expect(answers.every((a) => a.status < 300)).toBe(true);
    const after = (await call("GET", path, { key })).json;
    expect([...after.marketingUnsubscribed].sort()).toEqual(["email", "sms", "whatsapp"]);
    expect(after.pushEnabled).toBe(false);
    expect(Object.keys(after.preferences)).toHaveLength(10);
  });
});

describe("concurrent template edits", () => {
  it("gives each of 20 parallel edits its own version, none built on a replaced one", async () => {
    const created = await call("POST", "/api/communication-templates", {
      key,
      body: { name: "Invoice", code: "invoice_email", channel: "email", type: "invoice", subjectTemplate: "Invoice", bodyTemplate: "Body 0" },
    });
    expect(created.status, created.text).toBe(201);
    const path = `/api/communication-templates/${created.json.id}`;
    const answers = await Promise.all([
      ...range(19).map((i) => call("PATCH", path, { key, body: { bodyTemplate: `Body ${i + 1}` } })),
      call("PATCH", path, { key, body: { subjectTemplate: "Your invoice" } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual(range(20).map(() => 200));
    const versions = (await call("GET", `${path}/versions`, { key })).json.results as { version: number; bodyTemplate: string; active: boolean }[];
    expect(versions.map((v) => v.version).sort((a, b) => a - b)).toEqual(range(21).map((i) => i + 1));
    expect(new Set(versions.map((v) => v.bodyTemplate)).size).toBe(20);
    const active = (await call("GET", path, { key })).json;
    expect(active.version).toBe(21);
    // The subject edit survives every body edit, whichever order they were written in.
    expect(active.subjectTemplate).toBe("Your invoice");
  });
});

describe("concurrent settings writes", () => {
  it("merges 20 concurrent receipt-window PATCHes and a tracking change", async () => {
    const answers = await Promise.all([
      ...range(20).map((i) => call("PATCH", "/api/settings", { key, body: { receiptWindows: { [`type_${i}`]: 60 + i } } })),
      call("PATCH", "/api/settings", { key, body: { tracking: "herald", preferences: { requiredTypes: ["otp"] } } }),
      call("PATCH", "/api/settings", { key, body: { routing: { email: "weighted" } } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual(range(22).map(() => 200));
    const after = (await call("GET", "/api/settings", { key })).json;
    for (const i of range(20)) expect(after.receiptWindows[`type_${i}`], `type_${i}`).toBe(60 + i);
    expect(after).toMatchObject({ tracking: "herald", routing: { email: "weighted" }, preferences: { requiredTypes: ["otp"] } });
  });
});

describe("concurrent trigger-rule edits", () => {
  it("keeps every field of concurrent PATCHes, each merged onto the rule as the others left it", async () => {
    const created = await call("POST", "/api/triggers", {
      key,
      body: { name: "Sale", eventType: "sale.completed", action: { kind: "send", templateCode: "invoice", channels: ["email"] } },
    });
    expect(created.status, created.text).toBe(201);
    const path = `/api/triggers/${created.json.id}`;
    const answers = await Promise.all([
      call("PATCH", path, { key, body: { name: "Renamed" } }),
      call("PATCH", path, { key, body: { enabled: false } }),
      call("PATCH", path, { key, body: { action: { templateCode: "receipt" } } }),
      call("PATCH", path, { key, body: { action: { delaySeconds: 60 } } }),
      call("PATCH", path, { key, body: { eventType: "sale.settled" } }),
      ...range(10).map(() => call("PATCH", path, { key, body: { action: { channels: ["email", "sms"] } } })),
    ]);
    expect(answers.map((a) => a.status)).toEqual(range(15).map(() => 200));
    const after = (await call("GET", path, { key })).json;
    expect(after).toMatchObject({
      name: "Renamed",
      enabled: false,
      eventType: "sale.settled",
      action: { kind: "send", templateCode: "receipt", delaySeconds: 60, channels: ["email", "sms"] },
    });
  });
});

describe("concurrent provider-config edits", () => {
  it("keeps each named column of concurrent PATCHes", async () => {
    const p = await addProvider(key, TWILIO());
    const path = `/api/providers/${p.id}`;
    const answers = await Promise.all([
      call("PATCH", path, { key, body: { priority: 7 } }),
      call("PATCH", path, { key, body: { enabled: false } }),
      call("PATCH", path, { key, body: { settings: { from: "+14155550199", baseUrl: "https://twilio.mock" } } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await call("GET", path, { key })).json).toMatchObject({ priority: 7, enabled: false, settings: { from: "+14155550199" } });
  });
});

describe("concurrent audience membership adds", () => {
  it("keeps every member and reports each add as its own", async () => {
    const created = await call("POST", "/api/audiences", { key, body: { name: "newsletter" } });
    expect(created.status, created.text).toBe(201);
    const path = `/api/audiences/${created.json.id}/members`;
    const member = (i: number) => ({ recipientType: "customer", recipientId: `m${i}`, email: `m${i}@example.com` });
    const answers = await Promise.all(range(20).map((i) => call("POST", path, { key, body: { members: [member(i), member(100 + (i % 5))] } })));
    expect(answers.map((a) => a.status)).toEqual(range(20).map(() => 200));
    // 20 distinct members plus 5 shared ones: the adds reported sum to what the audience holds.
    expect(answers.reduce((sum, a) => sum + a.json.added, 0)).toBe(25);
    expect((await call("GET", `/api/audiences/${created.json.id}/count`, { key })).json).toEqual({ count: 25 });
  });
});
