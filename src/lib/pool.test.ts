import { describe, expect, it } from "vitest";
import { mapPool } from "./pool";

describe("mapPool", () => {
  it("runs at most `limit` at once and keeps results in input order", async () => {
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const done = mapPool([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return n * 10;
    });
    // Release the waiting calls one by one, latest first, until all ten have run.
    for (let released = 0; released < 10; released++) {
      await Promise.resolve();
      while (gates.length === 0) await new Promise((r) => setTimeout(r, 0));
      gates.pop()!();
    }
    expect(await done).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(peak).toBe(3);
  });

  it("handles fewer items than the limit, and none", async () => {
    expect(await mapPool([1], 6, async (n) => n + 1)).toEqual([2]);
    expect(await mapPool([], 6, async (n: number) => n)).toEqual([]);
  });
});
