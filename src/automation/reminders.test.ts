import { describe, expect, it } from "vitest";
import { nextDueAt, stepDueAt, totalSteps } from "./reminders";

const DAY = 86_400_000;
const firstAt = new Date("2030-01-01T09:00:00Z");

describe("reminder schedules", () => {
  it("space steps every N days up to the maximum", () => {
    const s = { firstAt, everyDays: 7, offsetsDays: null, maxSteps: 3 };
    expect(totalSteps(s)).toBe(3);
    expect(stepDueAt(s, 2).toISOString()).toBe("2030-01-15T09:00:00.000Z");
    expect(nextDueAt(s, 0, firstAt)?.toISOString()).toBe("2030-01-08T09:00:00.000Z");
    expect(nextDueAt(s, 2, stepDueAt(s, 2))).toBeNull();
  });

  it("follow listed offsets, capped by the maximum", () => {
    const s = { firstAt, everyDays: null, offsetsDays: [0, 3, 10, 20], maxSteps: 3 };
    expect(totalSteps(s)).toBe(3);
    expect(nextDueAt(s, 1, stepDueAt(s, 1))?.toISOString()).toBe("2030-01-11T09:00:00.000Z");
    expect(totalSteps({ ...s, maxSteps: 10 })).toBe(4);
  });

  it("shift the rest by a late step's lateness", () => {
    const s = { firstAt, everyDays: 7, offsetsDays: null, maxSteps: 3 };
    const late = new Date(firstAt.getTime() + 2 * DAY);
    expect(nextDueAt(s, 0, late)?.toISOString()).toBe("2030-01-10T09:00:00.000Z");
  });
});
