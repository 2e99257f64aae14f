import { describe, expect, it } from "vitest";
import { newApiKey, uuidv7 } from "./ids";

describe("uuidv7", () => {
  it("is a version 7, variant 10 UUID carrying the timestamp", () => {
    const at = Date.UTC(2026, 10, 23, 12, 0, 0);
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBeGreaterThanOrEqual(at);
  });

  it("sorts in creation order, even many within one millisecond", () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_900_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("newApiKey", () => {
  it("carries 256 bits in a recognisable prefix", () => {
    const a = newApiKey();
    expect(a).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);
    expect(newApiKey()).not.toBe(a);
  });
});
