/** The automation routes at their edges: bad bodies, limits, unknown ids, no key. */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { sandboxTenant } from "./fixtures";

let key: string;

beforeEach(async () => {
  ({ key } = await sandboxTenant([]));
});

describe("automation routes", () => {
  it("refuse requests without a key", async () => {
    for (const path of ["/api/events", "/api/triggers", "/api/reminders"]) expect((await call("GET", path)).status).toBe(401);
  });

  it("answer 400 to a body that is not JSON", async () => {
    for (const path of ["/api/events", "/api/triggers", "/api/reminders"]) {
      const res = await call("POST", path, { key, body: "{not json" });
      expect(res.status, path).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
  });

  it("bound what one event may carry", async () => {
    const big = await call("POST", "/api/events", { key, body: { type: "a.b", data: { blob: "x".repeat(40_000) } } });
    expect(big.json.errors).toEqual([{ field: "data", message: "at most 32000 bytes of JSON" }]);
    const many = await call("POST", "/api/events", { key, body: { type: "a.b", recipients: Array.from({ length: 51 }, (_, i) => ({ id: `u${i}` })) } });
    expect(many.json.errors[0].field).toBe("recipients");
    const both = await call("POST", "/api/events", { key, body: { type: "a.b", recipient: { id: "x" }, recipients: [{ id: "y" }] } });
    expect(both.json.errors[0].field).toBe("recipients");
  });

  it("store prototype-looking keys in data as plain data", async () => {
    // `__proto__` keys are refused at the edge (they would vanish when copied); the rest is data.
    const refused = await call("POST", "/api/events", { key, body: `{"type":"a.b","data":{"__proto__":{"polluted":true}}}` });
    expect(refused.status).toBe(422);
    expect(refused.json.errors[0].field).toBe("data.__proto__");
    const res = await call("POST", "/api/events", { key, body: `{"type":"a.b","data":{"constructor":{"prototype":{"x":1}}}}` });
    expect(res.status).toBe(202);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const stored = await call("GET", `/api/events/${res.json.id}`, { key });
    expect(stored.json.data.constructor).toEqual({ prototype: { x: 1 } });
  });

  it("answer 404 for ids that do not exist, however they are spelled", async () => {
    for (const path of ["/api/events/nope", "/api/events/%25", "/api/triggers/%E0%A4%A", "/api/reminders/01a20000-0000-7000-8000-000000000000"]) {
      const res = await call("GET", path, { key });
      expect(res.status, path).toBe(404);
    }
    expect((await call("DELETE", "/api/reminders/nope", { key })).status).toBe(404);
    expect((await call("PATCH", "/api/triggers/nope", { key, body: { enabled: false } })).status).toBe(404);
  });

  it("refuse unknown fields, naming them", async () => {
    const res = await call("POST", "/api/triggers", { key, body: { preset: "payment_link", colour: "red" } });
    expect(res.json.errors).toEqual([{ field: "(body)", message: "unknown field(s): colour" }]);
  });
});
