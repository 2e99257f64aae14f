import { describe, expect, it } from "vitest";
import { normalisePhone } from "./phone";
import { normaliseContact } from "../pipeline/send-request";

describe("normalisePhone", () => {
  it.each([
    ["+14155550123", "+14155550123"],
    ["+1 (415) 555-0123", "+14155550123"],
    [" +49 151 23456789 ", "+4915123456789"],
    ["+44 7700 123456", "+447700123456"],
  ])("normalises %s to %s", (raw, value) => {
    expect(normalisePhone(raw)).toEqual({ ok: true, value });
  });

  it.each([
    ["+1 555 0000", "+15550000 is not in the numbering plan of +1"],
    ["+15555550100", "is not in the numbering plan of +1"],
    ["14155550123", "no + and country code"],
    ["+1", "too short"],
    ["+abc", "not a number"],
    ["+1 415 555 0123 ext. 12", "an extension cannot receive messages"],
  ])("refuses %s, saying why", (raw, detail) => {
    const r = normalisePhone(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain("must be a valid phone number in international (E.164) format, e.g. +14155550123");
    expect(!r.ok && r.reason).toContain(detail);
  });

  it("is what sms and whatsapp contacts go through, whatsapp: prefix included", () => {
    expect(normaliseContact("whatsapp", "whatsapp:+1 415 555 0123")).toEqual({ ok: true, value: "+14155550123" });
    expect(normaliseContact("sms", "+1 555 0000").ok).toBe(false);
  });
});
