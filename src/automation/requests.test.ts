import { describe, expect, it } from "vitest";
import type { PreferenceRow } from "../db/preferences";
import { fill, stepRequests } from "./requests";
import type { SendStep } from "./rule";

const step = (over: Partial<SendStep> = {}): SendStep => ({ templateCode: "t", channels: ["email", "sms"], routing: "fixed", strategy: "all", priority: "normal", ...over });
const base = { templateVariables: {}, metadata: {} };
const jane = { type: "customer", id: "c1", email: "j@example.com", phone: "+14155550123" };

describe("stepRequests", () => {
  it("fixed routing sends on every channel with the event's contacts", () => {
    expect(stepRequests(step(), jane, undefined, base).map((r) => [r.channel, r.recipientContact])).toEqual([
      ["email", "j@example.com"],
      ["sms", "+14155550123"],
    ]);
  });

  it("preference routing uses stored preferences when they give a contact", () => {
    const pref = { entityType: "customer", entityId: "c1", preferredEmail: "pref@example.com", preferredPhone: null, preferredWhatsapp: null, preferredMessengerId: null } as PreferenceRow;
    const [r] = stepRequests(step({ routing: "preferences" }), jane, pref, base);
    expect(r).toMatchObject({ channels: ["email", "sms"], recipientId: "c1" });
    expect(r).not.toHaveProperty("recipientContact");
  });

  it("without preferences falls back to the first channel the event gave a contact for", () => {
    const phoneOnly = { type: "user", id: "u", phone: "+14155550123" };
    expect(stepRequests(step({ routing: "preferences" }), phoneOnly, undefined, base).map((r) => r.channel)).toEqual(["sms"]);
    expect(stepRequests(step({ channels: ["whatsapp"], routing: "preferences" }), phoneOnly, undefined, base)[0]).toMatchObject({ channel: "whatsapp", recipientContact: "+14155550123" });
  });

  it("with no contact at all asks for the first channel, which validation then refuses", () => {
    expect(stepRequests(step({ routing: "preferences" }), { type: "user", id: "u" }, undefined, base)).toEqual([expect.objectContaining({ channel: "email" })]);
  });
});

it("fill replaces placeholders from data", () => {
  expect(fill("invoice-{{ invoiceNumber }}-{{customer.id}}{{missing}}.pdf", { invoiceNumber: "INV-1", customer: { id: 7 } })).toBe("invoice-INV-1-7.pdf");
});
