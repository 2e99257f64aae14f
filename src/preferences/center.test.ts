import { describe, expect, it } from "vitest";
import { blankPreference } from "./consent";
import { centerChange, centerChoices, centerView, typeLabel, type FormFields } from "./center";
import { policyOf } from "./policy";
import type { PreferenceRow } from "../db/preferences";

const policy = policyOf({ preferences: { timezone: "UTC" } });
const row = (over: Partial<PreferenceRow> = {}): PreferenceRow => ({ ...blankPreference("t1", { entityType: "customer", entityId: "c1" }, new Date(0)), ...over });
const base: FormFields = { "shown.channel": ["email", "sms"], "shown.type": ["invoice"], channels: ["email", "sms"], "type.invoice": ["email", "sms"], timezone: "UTC" };

describe("what the preference center offers", () => {
  it("offers the types and channels in use and in the recipient's preferences, never required types", () => {
    const pref = row({ preferences: { shipping: ["whatsapp"] }, pushEnabled: false });
    const choices = centerChoices(pref, policy, [{ type: "invoice", channel: "email" }, { type: "otp", channel: "sms" }, { channel: "sms" }]);
    expect(choices).toEqual({ types: ["invoice", "shipping"], channels: ["email", "sms", "whatsapp", "push"] });
    expect(centerChoices(undefined, policy, [])).toEqual({ types: [], channels: ["email"] });
  });

  it("shows a type with no preference as every channel ticked", () => {
    const view = centerView(row({ preferences: { shipping: ["sms"] } }), policy, { types: ["invoice", "shipping"], channels: ["email", "sms"] });
    expect(view.types.map((t) => t.channels.filter((c) => c.checked).map((c) => c.channel))).toEqual([["email", "sms"], ["sms"]]);
  });
});

describe("what a submitted form changes", () => {
  it("changes nothing when the form is as shown", () => {
    expect(centerChange(base, undefined, policy)).toEqual({ ok: true, patch: {}, consents: [] });
  });

  it("turns unticked boxes into a channel consent and a type's channels", () => {
    const change = centerChange({ ...base, channels: ["email"], "type.invoice": ["email"] }, undefined, policy);
    expect(change).toEqual({ ok: true, patch: { preferences: { invoice: ["email"] } }, consents: [{ channel: "sms", status: "revoked" }] });
  });

  it("sets a type back to any channel when every box is ticked again", () => {
    const change = centerChange(base, row({ preferences: { invoice: ["sms"] } }), policy);
    expect(change).toMatchObject({ ok: true, patch: { preferences: { invoice: null } } });
  });

  it("opts out of everything and ignores the rest of the form", () => {
    const change = centerChange({ ...base, channels: [], optOut: "on", timezone: "Nowhere/Else" }, undefined, policy);
    expect(change).toEqual({
      ok: true,
      patch: { optedOut: true, optedOutReason: expect.any(String) },
      consents: [
        { channel: "email", status: "revoked" },
        { channel: "sms", status: "revoked" },
      ],
    });
  });

  it("needs both quiet-hour times or neither, and a time zone", () => {
    expect(centerChange({ ...base, "quietHours.start": "22:00" }, undefined, policy)).toEqual({ ok: false, errors: [{ field: "quietHours.end", message: expect.any(String) }] });
    expect(centerChange({ ...base, timezone: "" }, undefined, policy)).toMatchObject({ ok: false, errors: [{ field: "timezone" }] });
    expect(centerChange({ ...base, "quietHours.start": "22:00", "quietHours.end": "07:00", timezone: "Asia/Tokyo" }, undefined, policy)).toMatchObject({
      ok: true,
      patch: { quietHours: { start: "22:00", end: "07:00" }, timezone: "Asia/Tokyo" },
    });
  });

  it("ignores offered values that are not channels or types", () => {
    const change = centerChange({ ...base, "shown.channel": ["email", "fax"], "shown.type": ["invoice", "__proto__", "Bad Type"] }, undefined, policy);
    expect(change).toMatchObject({ ok: true, consents: [] });
  });

  it("labels types for people", () => {
    expect(typeLabel("payment_reminder")).toBe("Payment reminder");
    expect(typeLabel("order.shipped")).toBe("Order shipped");
  });
});
