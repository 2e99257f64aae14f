import { describe, expect, it } from "vitest";
import { base64Decode, base64Encode, base64urlDecode, base64urlEncode, decodedLength } from "./base64";

describe("base64", () => {
  it("round-trips bytes, strings as UTF-8, and sizes past one 32 KB slice", () => {
    expect(base64Encode("héllo")).toBe("aMOpbGxv");
    expect(new TextDecoder().decode(base64Decode("aMOpbGxv"))).toBe("héllo");
    const big = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 31 + 7) % 256);
    const b64 = base64Encode(big);
    expect(decodedLength(b64)).toBe(big.length);
    expect(base64Decode(b64)).toEqual(big);
    expect(base64Encode(big.buffer)).toBe(b64);
  });

  it("base64url has no padding and no + or /, and decodes with or without padding", () => {
    const bytes = new Uint8Array([251, 255, 191, 0]);
    expect(base64Encode(bytes)).toBe("+/+/AA==");
    expect(base64urlEncode(bytes)).toBe("-_-_AA");
    expect(base64urlDecode("-_-_AA")).toEqual(bytes);
    expect(base64urlDecode("-_-_AA==")).toEqual(bytes);
  });

  it("refuses characters outside the alphabet", () => {
    expect(() => base64Decode("not base64!")).toThrow();
  });
});
