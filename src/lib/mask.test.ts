import { describe, expect, it } from "vitest";
import { maskContact, maskEmail, maskPhone } from "./mask";

describe("masking contacts", () => {
  it("keeps the first letter and the domain of an email", () => {
    expect(maskEmail("jane.doe@example.com")).toBe("j***@example.com");
    expect(maskContact("j@example.com")).toBe("j***@example.com");
    expect(maskEmail("@example.com")).toBe("***");
  });

  it("keeps the country and area code and the last four digits of a phone number", () => {
    expect(maskPhone("+14155550123")).toBe("+1415***0123");
    expect(maskContact("whatsapp:+447700900123")).toBe("+4477***0123");
    expect(maskContact("+1 (415) 555-0123")).toBe("+1415***0123");
    expect(maskPhone("+123456")).toBe("+***56");
  });

  it("masks other contacts to their ends, and passes nothing through whole", () => {
    expect(maskContact("1234567890123")).toBe("1234***0123");
    expect(maskContact("customer/u-42-long")).toBe("cu***ng");
    expect(maskContact("abc")).toBe("***");
    expect(maskContact(null)).toBeNull();
    expect(maskContact("")).toBeNull();
    for (const c of ["jane.doe@example.com", "+14155550123", "customer/u-42-long", "123456789012345"]) expect(maskContact(c)).not.toContain(c);
  });
});
