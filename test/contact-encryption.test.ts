/**
 * Recipients' contacts sealed at rest (`encryptContacts`): the D1 row holds no plain contact, yet
 * the API, sends routed by preferences, campaigns, export and erasure all see the real address; a
 * sealed value moved to another tenant, recipient or field fails to open; turning the setting off
 * keeps old sealed values readable and stores the next write plain.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts, TWILIO, twilioAccepts } from "./helpers";
import { audience, campaign, captureQueues, deliverBulk, fanOut } from "./campaigns/fixtures";
import { contactAad, isSealedContact, openContacts, sealContacts, SealedContactError } from "../src/preferences/contact-sealing";
import { seal } from "../src/lib/crypto";

const SECRET = env.ENCRYPTION_KEY!;
let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key, tenantId } = await createTenant());
});

const prefs = (id: string, body: Record<string, unknown>) => call("PATCH", `/api/communication-preferences/customer/${id}`, { key, body });
const encrypt = (on: boolean) => call("PATCH", "/api/settings", { key, body: { encryptContacts: on } });
type RawRow = { preferred_email: string | null; preferred_phone: string | null; preferred_whatsapp: string | null; preferred_messenger_id: string | null };
const rawRow = (id: string, tenant = tenantId) =>
  env.DB.prepare("SELECT preferred_email, preferred_phone, preferred_whatsapp, preferred_messenger_id FROM recipient_preference WHERE tenant_id = ? AND entity_type = 'customer' AND entity_id = ?")
    .bind(tenant, id)
    .first<RawRow>();
const ann = { preferredEmail: "Ann@Example.com", preferredPhone: "+1 415 555 0123", preferredWhatsapp: "+14155550199", preferredMessengerId: "1234567890" };
const plain = { preferredEmail: "ann@example.com", preferredPhone: "+14155550123", preferredWhatsapp: "+14155550199", preferredMessengerId: "1234567890" };

describe("the encryptContacts setting", () => {
  it("is off by default and can be turned on", async () => {
    expect((await call("GET", "/api/settings", { key })).json.encryptContacts).toBe(false);
    const on = await encrypt(true);
    expect(on.status, on.text).toBe(200);
    expect(on.json.encryptContacts).toBe(true);
    expect((await call("GET", "/api/settings", { key })).json.encryptContacts).toBe(true);
    const bad = await call("PATCH", "/api/settings", { key, body: { encryptContacts: "yes" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("encryptContacts");
  });
});

describe("with the setting on", () => {
  beforeEach(async () => {
    await encrypt(true);
  });

  it("stores no plain contact, but the API shows them to the tenant", async () => {
    const res = await prefs("c1", ann);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject(plain);
    const row = (await rawRow("c1"))!;
    for (const value of Object.values(row)) {
      expect(isSealedContact(value!)).toBe(true);
      expect(value).not.toMatch(/ann|4155550/i);
    }
    expect((await call("GET", "/api/communication-preferences/customer/c1", { key })).json).toMatchObject({ exists: true, ...plain });

    // A later PATCH of another field keeps the contacts as they were, sealed once.
    const later = await prefs("c1", { locale: "fr-CA" });
    expect(later.json).toMatchObject({ locale: "fr-CA", ...plain });
    expect(await rawRow("c1")).toEqual(row);
    // Clearing one works too.
    expect((await prefs("c1", { preferredMessengerId: null })).json.preferredMessengerId).toBeNull();
    expect((await rawRow("c1"))!.preferred_messenger_id).toBeNull();
  });

  it("keeps the audit log masked", async () => {
    await prefs("c1", ann);
    const log = await call("GET", "/api/audit-log?action=preference.updated", { key });
    const text = JSON.stringify(log.json);
    expect(text).not.toContain("ann@example.com");
    expect(text).not.toContain("v2.");
  });

  it("sends to the preferred contact, by recipientId alone and routed with channel auto", async () => {
    const queue = captureQueue();
    await addProvider(key, SENDGRID({ priority: 0 }));
    await addProvider(key, TWILIO({ priority: 0 }));
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts(), "https://twilio.mock": twilioAccepts() });
    await prefs("c1", { preferredEmail: ann.preferredEmail });
    await prefs("c2", { preferredPhone: ann.preferredPhone, preferences: { reminder: ["sms"] } });

    const direct = await call("POST", "/api/communications/send", { key, body: { channel: "email", recipientId: "c1", subject: "Hi", content: "x" } });
    expect(direct.status, direct.text).toBe(201);
    expect(direct.json.communication.recipientContact).toBe("ann@example.com");
    const routed = await call("POST", "/api/communications/send", { key, body: { channel: "auto", type: "reminder", recipientId: "c2", content: "Pay soon" } });
    expect(routed.status, routed.text).toBe(201);
    const [routedSms] = routed.json.results;
    expect(routedSms).toMatchObject({ channel: "sms", status: "queued" });

    await runDelivery(queue.drain().map((m) => m.body));
    const email = net.requests.find((r) => r.url.startsWith("https://sendgrid.mock"))!;
    expect(JSON.parse(email.body).personalizations[0].to[0].email).toBe("ann@example.com");
    const sms = net.requests.find((r) => r.url.startsWith("https://twilio.mock"))!;
    expect(new URLSearchParams(sms.body).get("To")).toBe("+14155550123");
    for (const id of [direct.json.id, routedSms.id]) expect((await call("GET", `/api/communications/${id}`, { key })).json.status).toBe("sent");

    // A resend plans again from today's preferences.
    const resend = await call("POST", `/api/communications/${routedSms.id}/resend`, { key });
    expect(resend.status, resend.text).toBe(201);
    expect((await call("GET", `/api/communications/${resend.json.id}`, { key })).json.recipientContact).toBe("+14155550123");
  });

  it("routes a campaign by the members' sealed preferences", async () => {
    const q = captureQueues();
    await addProvider(key, SENDGRID({ priority: 0 }));
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    await prefs("m1", { preferredEmail: "m1@example.com" });
    const c = await campaign(key, { channel: "auto", audienceId: await audience(key, [{ recipientType: "customer", recipientId: "m1" }]) });
    expect((await call("POST", `/api/campaigns/${c.id}/send`, { key })).status).toBe(202);
    await fanOut(q);
    expect(await deliverBulk(q)).toBe(1);
    expect(JSON.parse(net.requests[0]!.body).personalizations[0].to[0].email).toBe("m1@example.com");
  });

  it("exports plain contacts, and erasure still removes the recipient's suppressions", async () => {
    await prefs("ada", { preferredEmail: "ada@example.com", preferredPhone: "+14155550123" });
    await call("POST", "/api/suppressions", { key, body: { channel: "sms", contact: "+14155550123", reason: "manual" } });
    await call("POST", "/api/suppressions", { key, body: { channel: "email", contact: "ada@example.com", reason: "manual" } });
    await call("POST", "/api/suppressions", { key, body: { channel: "email", contact: "bob@example.com", reason: "manual" } });

    const exported = await call("GET", "/api/recipients/customer/ada/export", { key });
    expect(exported.status).toBe(200);
    expect(exported.json.preferences).toMatchObject({ preferredEmail: "ada@example.com", preferredPhone: "+14155550123" });
    expect(exported.json.suppressions.map((s: { contact: string }) => s.contact).sort()).toEqual(["+14155550123", "ada@example.com"]);

    const erased = await call("DELETE", "/api/recipients/customer/ada", { key });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.json.erased.suppressions).toBe(2);
    const left = await call("GET", "/api/suppressions", { key });
    expect(left.json.results.map((s: { contact: string }) => s.contact)).toEqual(["bob@example.com"]);
    expect(await rawRow("ada")).toEqual({ preferred_email: null, preferred_phone: null, preferred_whatsapp: null, preferred_messenger_id: null });
  });

  it("rewrites the row on a consent or a one-click unsubscribe without opening or resealing it", async () => {
    const queue = captureQueue();
    await addProvider(key, SENDGRID({ priority: 0 }));
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    await prefs("c1", ann);
    const sealed = await rawRow("c1");
    await call("POST", "/api/communication-preferences/customer/c1/consents", { key, body: { channel: "sms", status: "revoked", source: "call" } });
    expect(await rawRow("c1")).toEqual(sealed);

    await call("POST", "/api/communications/send", { key, body: { channel: "email", type: "marketing", recipientId: "c1", subject: "Sale", content: "<p>x</p>" } });
    await runDelivery(queue.drain().map((m) => m.body));
    const link = /^<(https:\/\/herald\.test\/u\/[^>]+)>$/.exec(JSON.parse(net.requests[0]!.body).headers["List-Unsubscribe"])![1]!;
    const done = await exports.default.fetch(link, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(done.status).toBe(200);
    expect(await rawRow("c1")).toEqual(sealed);
    expect((await call("GET", "/api/communication-preferences/customer/c1", { key })).json).toMatchObject({ ...plain, smsEnabled: false, marketingUnsubscribed: ["email"] });
  });
});

describe("turning the setting on and off", () => {
  it("keeps values written before readable, and stores the next write under the new setting", async () => {
    await prefs("old", { preferredEmail: "old@example.com" });
    expect((await rawRow("old"))!.preferred_email).toBe("old@example.com");
    await encrypt(true);
    // Written before: still plain until the next write, and read the same way.
    expect((await call("GET", "/api/communication-preferences/customer/old", { key })).json.preferredEmail).toBe("old@example.com");
    await prefs("old", { locale: "en" });
    expect(isSealedContact((await rawRow("old"))!.preferred_email!)).toBe(true);
    await prefs("new", { preferredPhone: "+14155550123" });

    await encrypt(false);
    expect((await call("GET", "/api/communication-preferences/customer/new", { key })).json.preferredPhone).toBe("+14155550123");
    expect(isSealedContact((await rawRow("new"))!.preferred_phone!)).toBe(true);
    const queue = captureQueue();
    await addProvider(key, { channel: "sms", provider: "sandbox" });
    const sent = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientId: "new", content: "x" } });
    expect(sent.json.communication.recipientContact).toBe("+14155550123");
    queue.drain();

    await prefs("new", { locale: "en" });
    expect((await rawRow("new"))!.preferred_phone).toBe("+14155550123");
  });
});

describe("contact sealing", () => {
  const owner = { tenantId: "t-a", entityType: "customer", entityId: "c1" };
  const row = { ...owner, preferredEmail: "ann@example.com", preferredPhone: "+14155550123", preferredWhatsapp: null, preferredMessengerId: null };

  it("round-trips, passes plain values through, and never seals twice", async () => {
    const sealed = await sealContacts(SECRET, row);
    expect(sealed.preferredEmail).not.toBe(row.preferredEmail);
    expect(isSealedContact(sealed.preferredEmail!)).toBe(true);
    expect(sealed.preferredWhatsapp).toBeNull();
    expect(await sealContacts(SECRET, sealed)).toEqual(sealed);
    expect(await openContacts(SECRET, sealed)).toEqual(row);
    expect(await openContacts(SECRET, row)).toEqual(row);
  });

  it("refuses a sealed value moved to another tenant, recipient or field", async () => {
    const sealed = await sealContacts(SECRET, row);
    const moved = [
      { ...sealed, tenantId: "t-b" },
      { ...sealed, entityId: "c2" },
      { ...sealed, entityType: "user" },
      { ...sealed, preferredEmail: null, preferredPhone: sealed.preferredEmail },
    ];
    for (const r of moved) await expect(openContacts(SECRET, r)).rejects.toBeInstanceOf(SealedContactError);
    // Sealed by tenant B's key for tenant A's exact row: the key differs, so it still does not open.
    const forged = await seal(SECRET, "t-b", "eve@example.com", contactAad(owner, "preferredEmail"));
    await expect(openContacts(SECRET, { ...row, preferredEmail: forged })).rejects.toThrow(/preferredEmail does not open/);
  });

  it("through the API: a row copied into another tenant fails the send instead of using the address", async () => {
    await encrypt(true);
    await prefs("c1", { preferredEmail: "ann@example.com" });
    const other = await createTenant("Other");
    await call("PATCH", "/api/settings", { key: other.key, body: { encryptContacts: true } });
    await addProvider(other.key, { channel: "email", provider: "sandbox" });
    await call("PATCH", "/api/communication-preferences/customer/c1", { key: other.key, body: { locale: "en" } });
    const stolen = (await rawRow("c1"))!.preferred_email;
    await env.DB.prepare("UPDATE recipient_preference SET preferred_email = ? WHERE tenant_id = ? AND entity_id = 'c1'").bind(stolen, other.tenantId).run();
    captureQueue();
    const res = await call("POST", "/api/communications/send", { key: other.key, body: { channel: "email", recipientId: "c1", subject: "s", content: "x" } });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain("ann@example.com");
    expect((await call("GET", "/api/communication-preferences/customer/c1", { key: other.key })).status).toBe(500);
  });
});
