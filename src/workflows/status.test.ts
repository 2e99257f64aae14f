import { describe, expect, it } from "vitest";
import { nextLocalTime } from "../preferences/quiet-hours";
import { outcomeOfMany, reached } from "./facts";
import { nextRunStatus } from "./status";

describe("run status transitions", () => {
  it("waits in sleeping steps, runs in the others, ends as told", () => {
    expect(nextRunStatus("running", { kind: "step_started", stepType: "delay" })).toBe("waiting");
    expect(nextRunStatus("waiting", { kind: "step_finished" })).toBe("running");
    expect(nextRunStatus("running", { kind: "step_started", stepType: "send" })).toBe("running");
    expect(nextRunStatus("running", { kind: "ended", status: "throttled" })).toBe("throttled");
  });
  it("a pending run leaves pending at its first step, or when cancelled or ended before it", () => {
    expect(nextRunStatus("pending", { kind: "step_started", stepType: "send" })).toBe("running");
    expect(nextRunStatus("pending", { kind: "step_started", stepType: "wait_for_event" })).toBe("waiting");
    expect(nextRunStatus("pending", { kind: "ended", status: "cancelled" })).toBe("cancelled");
    expect(nextRunStatus("cancelled", { kind: "step_started", stepType: "send" })).toBe("cancelled");
  });
  it("never moves a finished run: a cancel is not undone by the instance's last write", () => {
    expect(nextRunStatus("cancelled", { kind: "ended", status: "completed" })).toBe("cancelled");
    expect(nextRunStatus("completed", { kind: "step_started", stepType: "send" })).toBe("completed");
  });
});

describe("outcomes", () => {
  const c = (over: Record<string, unknown>) => ({ channel: "email" as const, status: "sent" as const, openedAt: null, clickedAt: null, ...over });
  it("an in-app message opened is read; the furthest of several sends counts", () => {
    expect(outcomeOfMany([c({ channel: "in_app", status: "opened", openedAt: new Date() })])).toBe("read");
    expect(outcomeOfMany([c({ status: "failed" }), c({ status: "delivered" })])).toBe("delivered");
    expect(outcomeOfMany([c({ status: "bounced" })])).toBe("failed");
  });
  it("escalation's unless is reached at its rank or above", () => {
    expect(reached("clicked", "read")).toBe(true);
    expect(reached("delivered", "read")).toBe(false);
    expect(reached("failed", "delivered")).toBe(false);
  });
});

describe("nextLocalTime", () => {
  it("finds the next wall-clock time in the zone, across midnight and DST", () => {
    expect(nextLocalTime(new Date("2026-03-10T12:00:00Z"), "09:00", "Asia/Tokyo").toISOString()).toBe("2026-03-11T00:00:00.000Z");
    expect(nextLocalTime(new Date("2026-03-10T23:30:00Z"), "09:00", "Asia/Tokyo").toISOString()).toBe("2026-03-11T00:00:00.000Z");
    // New York springs forward on 2026-03-08: 09:00 is 13:00 UTC from then on.
    expect(nextLocalTime(new Date("2026-03-07T15:00:00Z"), "09:00", "America/New_York").toISOString()).toBe("2026-03-08T13:00:00.000Z");
  });
});
