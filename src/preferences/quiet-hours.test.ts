import { describe, expect, it } from "vitest";
import { isValidTimeZone, quietUntil } from "./quiet-hours";

const night = { start: "22:00", end: "07:00" };

describe("quietUntil", () => {
  it("holds a message sent at 23:30 in Paris until 07:00 Paris time", () => {
    // 2026-01-15 22:30 UTC = 23:30 in Paris (UTC+1)
    expect(quietUntil(new Date("2026-01-15T22:30:00Z"), night, "Europe/Paris")?.toISOString()).toBe("2026-01-16T06:00:00.000Z");
  });

  it("holds an early-morning message until the same morning", () => {
    // 03:00 in New York (UTC-5) → 07:00 New York = 12:00 UTC
    expect(quietUntil(new Date("2026-01-15T08:00:00Z"), night, "America/New_York")?.toISOString()).toBe("2026-01-15T12:00:00.000Z");
  });

  it("lets daytime messages through", () => {
    expect(quietUntil(new Date("2026-01-15T12:00:00Z"), night, "Europe/Paris")).toBeUndefined();
    expect(quietUntil(new Date("2026-01-15T21:59:00Z"), night, "UTC")).toBeUndefined();
  });

  it("ends at 07:00 local on the night clocks go forward (Europe, 29 March 2026)", () => {
    // 23:00 Paris on 28 March is UTC+1; 07:00 on 29 March is already UTC+2 (05:00 UTC).
    expect(quietUntil(new Date("2026-03-28T22:00:00Z"), night, "Europe/Paris")?.toISOString()).toBe("2026-03-29T05:00:00.000Z");
  });

  it("ends at 07:00 local on the night clocks go back (US, 1 November 2026)", () => {
    // 23:00 New York on 31 Oct is UTC-4; 07:00 on 1 Nov is UTC-5 (12:00 UTC).
    expect(quietUntil(new Date("2026-11-01T03:00:00Z"), night, "America/New_York")?.toISOString()).toBe("2026-11-01T12:00:00.000Z");
  });

  it("supports daytime windows and resolves a skipped local time to after the jump", () => {
    expect(quietUntil(new Date("2026-01-15T13:00:00Z"), { start: "12:00", end: "14:00" }, "UTC")?.toISOString()).toBe("2026-01-15T14:00:00.000Z");
    // 02:30 does not exist in Paris on 29 March 2026; a window ending then ends at 03:30 local (01:30 UTC).
    const end = quietUntil(new Date("2026-03-29T00:10:00Z"), { start: "00:00", end: "02:30" }, "Europe/Paris");
    expect(end?.toISOString()).toBe("2026-03-29T01:30:00.000Z");
  });

  it("validates time zone names", () => {
    expect(isValidTimeZone("Europe/Paris")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
  });
});
