import { describe, expect, it } from "vitest";
import { contrastRatio, readableOnWhite } from "./colour";

describe("colour contrast", () => {
  it("measures WCAG contrast ratios", () => {
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrastRatio("#ffffff", "#ffffff")).toBe(1);
    expect(contrastRatio("#767676", "#ffffff")).toBeCloseTo(4.54, 2);
  });

  it("keeps a dark colour and darkens a pale one until it reads on white", () => {
    expect(readableOnWhite("#1D4ED8")).toBe("#1D4ED8".toLowerCase());
    for (const pale of ["#facc15", "#ffffff", "#7dd3fc", "#22c55e"]) {
      const shade = readableOnWhite(pale);
      expect(contrastRatio(shade, "#ffffff"), pale).toBeGreaterThanOrEqual(4.5);
      expect(shade).not.toBe(pale);
    }
  });

  it("refuses what is not #rrggbb", () => {
    expect(() => readableOnWhite("red")).toThrow(/rrggbb/);
  });
});
