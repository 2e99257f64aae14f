// The bench's binding counter (bench/count/counter.ts): if it miscounted, every figure of
// `npm run bench -- --count` would be wrong, so its arithmetic is pinned here.
import { afterEach, describe, expect, it } from "vitest";
import { countBindings } from "../bench/count/counter";
import { testEnv } from "./helpers";

let counter: ReturnType<typeof countBindings> | undefined;
afterEach(() => counter?.restore());

describe("binding counter", () => {
  it("counts a batch of three statements as one round trip and three statements", async () => {
    counter = countBindings(testEnv);
    const db = testEnv.DB;
    await db.batch([db.prepare("SELECT 1"), db.prepare("SELECT ?").bind(2), db.prepare("SELECT 3")]);
    expect(counter.take()).toEqual({ roundTrips: 1, statements: 3, doCalls: 0, queueSends: 0, queueMessages: 0 });
  });

  it("counts statements run alone, sessions, stub calls and queue sends", async () => {
    counter = countBindings(testEnv);
    const db = testEnv.DB;
    expect(await db.prepare("SELECT ? AS n").bind(7).first("n")).toBe(7);
    await db.withSession("first-unconstrained").prepare("SELECT 1").all();
    await testEnv.LIMITER.getByName("counter-self-test").limits();
    await testEnv.SEND_QUEUE.sendBatch([]).catch(() => undefined);
    expect(counter.take()).toEqual({ roundTrips: 2, statements: 2, doCalls: 1, queueSends: 1, queueMessages: 0 });
    counter.restore();
    await db.prepare("SELECT 1").all();
    expect(counter.take().roundTrips).toBe(0);
  });
});
