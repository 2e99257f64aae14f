/**
 * Concurrent writers of one shared row (issue 19 items 1 and 5): many PATCHes at once through the
 * app's fetch, then nothing any of them was answered 200 for may be missing. The old code read the
 * row, merged in JS and wrote the whole row back, so the last writer erased the others.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant } from "./helpers";

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
