import { describe, expect, it } from "vitest";
import { smsSegments } from "./sms-segments";

describe("smsSegments", () => {
  it.each([
    ["x".repeat(160), "GSM-7", 1],
    ["x".repeat(161), "GSM-7", 2],
    ["x".repeat(306), "GSM-7", 2],
    ["x".repeat(307), "GSM-7", 3],
    ["€".repeat(80), "GSM-7", 1],
    ["€".repeat(81), "GSM-7", 2],
    ["ç".repeat(70), "UCS-2", 1],
    ["ç".repeat(71), "UCS-2", 2],
    ["ç".repeat(135), "UCS-2", 3],
    ["😀".repeat(35), "UCS-2", 1],
    ["😀".repeat(36), "UCS-2", 2],
    ["", "GSM-7", 0],
  ])("%#: counts segments like carriers do", (text, encoding, segments) => {
    expect(smsSegments(text)).toMatchObject({ encoding, segments });
  });

  it("never splits an escape pair across parts", () => {
    // 152 plain + '€' (2 septets) would straddle the 153-septet boundary: it moves to part 2.
    expect(smsSegments("x".repeat(152) + "€" + "x".repeat(10))).toMatchObject({ units: 164, segments: 2 });
    expect(smsSegments("x".repeat(152) + "€" + "x".repeat(152))).toMatchObject({ segments: 3 });
  });
});
