import { describe, expect, it } from "vitest";
import { conditionHolds, ruleMatches, scheduleIssue, valueAt } from "./rule";

describe("conditions", () => {
  const data = { amount: 120.5, total: "99.90", customer: { segment: "vip", tags: ["a"] }, paid: false, note: null };

  it("read dotted paths", () => {
    expect(valueAt(data, "customer.segment")).toBe("vip");
    expect(valueAt(data, "customer.tags.0")).toBe("a");
    expect(valueAt(data, "customer.missing.deeper")).toBeUndefined();
  });

  it.each([
    [{ field: "amount", op: "gt", value: 100 }, true],
    [{ field: "amount", op: "lte", value: 100 }, false],
    [{ field: "total", op: "lt", value: 100 }, true], // numeric strings compare as numbers
    [{ field: "customer.segment", op: "in", value: ["vip", "gold"] }, true],
    [{ field: "customer.segment", op: "eq", value: "new" }, false],
    [{ field: "paid", op: "eq", value: false }, true],
    [{ field: "paid", op: "ne", value: true }, true],
    [{ field: "note", op: "exists" }, false],
    [{ field: "note", op: "not_exists" }, true],
    [{ field: "customer", op: "gt", value: 1 }, false], // objects do not compare
  ] as const)("%o → %s", (c, expected) => {
    expect(conditionHolds(c as Parameters<typeof conditionHolds>[0], data)).toBe(expected);
  });

  it("all must hold; none always matches", () => {
    expect(ruleMatches([], data)).toBe(true);
    expect(ruleMatches([{ field: "amount", op: "gt", value: 1 }, { field: "paid", op: "eq", value: true }], data)).toBe(false);
  });
});

describe("schedules", () => {
  it("take everyDays or increasing offsets", () => {
    expect(scheduleIssue({ everyDays: 7, maxSteps: 3 })).toBeUndefined();
    expect(scheduleIssue({ offsetsDays: [0, 3, 10], maxSteps: 3 })).toBeUndefined();
    expect(scheduleIssue({ maxSteps: 3 })?.path).toBe("everyDays");
    expect(scheduleIssue({ everyDays: 1, offsetsDays: [0], maxSteps: 3 })?.path).toBe("everyDays");
    expect(scheduleIssue({ offsetsDays: [0, 3, 3], maxSteps: 3 })?.path).toBe("offsetsDays");
  });
});
