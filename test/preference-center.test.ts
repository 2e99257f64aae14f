/**
 * The hosted preference center (issue 22): minting its link, and a recipient using the page as
 * a browser would (GET the page, POST its form) or as a JSON client, with what the API shows
 * afterwards. Forms are filled from the page's own markup, as a browser would submit them.
 */
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, addProvider, BASE, call, captureQueue, createTenant, testEnv } from "./helpers";
import { mintPreferenceLink } from "../src/preferences/link";
import { signToken } from "../src/pipeline/tracking-links";
import { base64urlDecode, base64urlEncode } from "../src/lib/base64";

let key: string;
let tenantId: string;

const HTML = { accept: "text/html,application/xhtml+xml" };
const JSON_ACCEPT = { accept: "application/json" };

beforeEach(async () => {
  vi.restoreAllMocks();
  captureQueue();
  ({ key, tenantId } = await createTenant("Acme"));
  for (const channel of ["email", "sms"]) await addProvider(key, { channel, provider: "sandbox" });
  const template = { name: "Invoice ready", code: "invoice_ready", channel: "email", type: "invoice", locale: "en", subjectTemplate: "Invoice", bodyTemplate: "Your invoice" };
  expect((await call("POST", "/api/communication-templates", { key, body: template })).status).toBe(201);
});

const mint = async (query = "", as = key, id = "c1") => call("GET", `/api/recipients/customer/${id}/preference-link${query}`, { key: as });
const pathOf = (url: string) => url.slice(BASE.length);
async function linkFor(id = "c1", as = key) {
  const res = await mint("", as, id);
  expect(res.status, res.text).toBe(200);
  return pathOf(res.json.url as string);
}

/** The form as the browser would send it: hidden fields, ticked boxes, times, the selected zone. */
function formOf(page: string) {
  const form = new URLSearchParams();
  for (const m of page.matchAll(/<input type="(hidden|checkbox|time)"[^>]*?name="([^"]+)" value="([^"]*)"([^>]*)>/g)) {
    const [, type, name, value, rest] = m;
    if (type === "checkbox" && !rest!.includes("checked")) continue;
    if (type === "time" && !value) continue;
    form.append(name!, value!);
  }
  form.set("timezone", /<option selected>([^<]+)<\/option>/.exec(page)![1]!);
  for (const name of ["quietHours.start", "quietHours.end"]) if (!form.has(name)) form.set(name, "");
  return form;
}

async function open(path: string) {
  const res = await call("GET", path, { headers: HTML });
  expect(res.status, res.text).toBe(200);
  return { page: res.text, form: formOf(res.text) };
}

/** A form POST (the `call` helper sends JSON). */
async function post(path: string, form: URLSearchParams, headers: Record<string, string> = HTML) {
  const res = await exports.default.fetch(`${BASE}${path}`, { method: "POST", headers, body: form, redirect: "manual" });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined };
}
const untick = (form: URLSearchParams, name: string, value: string) => {
  const kept = form.getAll(name).filter((v) => v !== value);
  form.delete(name);
  for (const v of kept) form.append(name, v);
};
const prefsOf = async (id = "c1", as = key) => (await call("GET", `/api/communication-preferences/customer/${id}`, { key: as })).json;
const consentsOf = async (id = "c1") => (await call("GET", `/api/communication-preferences/customer/${id}/consents`, { key })).json.results as any[];

async function scopedKey(scopes: string[]) {
  const res = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: scopes.join(","), scopes } });
  expect(res.status).toBe(201);
  return res.json.apiKey as string;
}

describe("GET /api/recipients/:type/:id/preference-link", () => {
  it("mints a link to the page that expires in 30 days by default, or after expiresIn seconds", async () => {
    const before = Date.now();
    const res = await mint();
    expect(res.status).toBe(200);
    expect(res.json.url).toMatch(new RegExp(`^${BASE}/preferences/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    const expires = Date.parse(res.json.expiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(30 * 86_400_000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(30 * 86_400_000 + 60_000);
    const short = await mint("?expiresIn=600");
    expect(Date.parse(short.json.expiresAt) - before).toBeLessThanOrEqual(600_000 + 60_000);
  });

  it("refuses an expiresIn out of range or not a number, naming it", async () => {
    for (const q of ["?expiresIn=99999999", "?expiresIn=10", "?expiresIn=soon", "?ttl=60"]) {
      const res = await mint(q);
      expect(res.status, q).toBe(422);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.json.errors[0].field, q).toBe(q === "?ttl=60" ? "(body)" : "expiresIn");
    }
  });

  it("needs preferences:write, even though it is a GET", async () => {
    const reader = await scopedKey(["preferences:read", "recipients:read"]);
    expect((await mint("", reader)).status).toBe(403);
    const writer = await scopedKey(["preferences:write"]);
    expect((await mint("", writer)).status).toBe(200);
    expect((await call("GET", "/api/recipients/customer/c1/preference-link")).status).toBe(401);
    const doc = (await call("GET", "/openapi.json")).json;
    expect(doc.paths["/api/recipients/{type}/{id}/preference-link"].get).toMatchObject({ "x-required-scope": "preferences:write" });
  });
});

describe("the preference center page", () => {
  it("shows the tenant's branding, escaped, and the recipient's current choices", async () => {
    const branding = { name: `Acme <b>"Bills"</b>`, logoUrl: "https://cdn.acme.test/logo.png?a=1&b=2", primaryColor: "#FACC15" };
    expect((await call("PATCH", "/api/settings", { key, body: { branding } })).status).toBe(200);
    await call("PATCH", "/api/communication-preferences/customer/c1", { key, body: { smsEnabled: false, preferences: { invoice: ["email"], shipping: ["sms"] }, quietHours: { start: "22:00", end: "07:00" }, timezone: "Europe/Paris" } });
    const res = await call("GET", await linkFor(), { headers: HTML });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    const page = res.text;
    expect(page).toContain("Acme &lt;b&gt;&quot;Bills&quot;&lt;/b&gt;");
    expect(page).not.toContain("<b>");
    // The logo is decorative: the name stands beside it.
    expect(page).toContain(`<img src="https://cdn.acme.test/logo.png?a=1&amp;b=2" alt=""><p class="brand">Acme &lt;b&gt;&quot;Bills&quot;&lt;/b&gt;</p>`);
    // Yellow on white is unreadable: the accent is a darker shade of it.
    const accent = /--accent:(#[0-9a-f]{6})/.exec(page)![1]!;
    expect(accent).not.toBe("#facc15");
    const form = formOf(page);
    expect(form.getAll("shown.channel")).toEqual(["email", "sms"]);
    expect(form.getAll("shown.type")).toEqual(["invoice", "shipping"]);
    expect(form.getAll("channels")).toEqual(["email"]);
    expect(form.getAll("type.invoice")).toEqual(["email"]);
    expect(form.getAll("type.shipping")).toEqual(["sms"]);
    expect(form.get("quietHours.start")).toBe("22:00");
    expect(form.get("timezone")).toBe("Europe/Paris");
    expect(page).toMatch(/<fieldset[^>]*>\s*<legend>Channels<\/legend>/);
    expect(page).toContain(`<label for="channel-email">Email</label>`);
  });

  it("saves a choice from the form through the API's write: the API then shows it, with a consent record", async () => {
    const path = await linkFor();
    const { form } = await open(path);
    untick(form, "channels", "sms");
    untick(form, "type.invoice", "sms");
    const res = await post(path, form);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${path}?saved=1`);
    const prefs = await prefsOf();
    expect(prefs).toMatchObject({ exists: true, emailEnabled: true, smsEnabled: false, preferences: { invoice: ["email"] } });
    const consents = await consentsOf();
    expect(consents).toEqual([expect.objectContaining({ channel: "sms", scope: "all", status: "revoked", source: "preference_center" })]);
    const again = await open(`${path}?saved=1`);
    expect(again.page).toContain("Your preferences are saved.");
    expect(again.form.getAll("channels")).toEqual(["email"]);
    // Saving the page untouched writes nothing.
    expect((await post(path, again.form)).status).toBe(303);
    expect(await consentsOf()).toHaveLength(1);
    const audit = (await call("GET", "/api/audit-log", { key })).json.results as any[];
    expect(audit.find((a) => a.action === "consent.recorded")).toMatchObject({ actor: { type: "recipient", id: null, name: "preference center" }, resourceId: "customer/c1" });
  });

  it("answers a JSON client with what the page shows", async () => {
    const path = await linkFor();
    const { form } = await open(path);
    untick(form, "type.invoice", "email");
    const res = await post(path, form, JSON_ACCEPT);
    expect(res.status).toBe(200);
    expect(res.json.saved).toBe(true);
    expect(res.json.preferences.types).toEqual([{ type: "invoice", channels: [{ channel: "email", checked: false }, { channel: "sms", checked: true }] }]);
    expect((await prefsOf()).preferences).toEqual({ invoice: ["sms"] });
  });

  it("unsubscribes from everything, with a revoked consent per channel, and back", async () => {
    const path = await linkFor();
    const { form } = await open(path);
    form.set("optOut", "on");
    expect((await post(path, form)).status).toBe(303);
    const prefs = await prefsOf();
    expect(prefs.optedOutAt).not.toBeNull();
    expect((await consentsOf()).map((c) => [c.channel, c.status, c.source])).toEqual([
      ["email", "revoked", "preference_center"],
      ["sms", "revoked", "preference_center"],
    ]);
    const out = await open(path);
    expect(out.page).toMatch(/id="opt-out" name="optOut" value="on" checked/);
    out.form.delete("optOut");
    out.form.append("channels", "email");
    expect((await post(path, out.form)).status).toBe(303);
    expect(await prefsOf()).toMatchObject({ optedOutAt: null, emailEnabled: true, smsEnabled: false });
    expect((await consentsOf()).at(-1)).toMatchObject({ channel: "email", status: "granted" });
  });

  it("sets quiet hours in the recipient's time zone", async () => {
    const path = await linkFor();
    const { form } = await open(path);
    form.set("quietHours.start", "21:30");
    form.set("quietHours.end", "07:15");
    form.set("timezone", "America/New_York");
    expect((await post(path, form)).status).toBe(303);
    expect(await prefsOf()).toMatchObject({ quietHours: { start: "21:30", end: "07:15" }, timezone: "America/New_York" });
    const cleared = (await open(path)).form;
    cleared.set("quietHours.start", "");
    cleared.set("quietHours.end", "");
    expect((await post(path, cleared)).status).toBe(303);
    expect((await prefsOf()).quietHours).toBeNull();
  });

  it("refuses a bad time zone or half a quiet window with a 400 naming the field", async () => {
    const path = await linkFor();
    const { form } = await open(path);
    form.set("timezone", "Mars/Olympus");
    const json = await post(path, form, JSON_ACCEPT);
    expect(json.status).toBe(400);
    expect(json.headers.get("content-type")).toContain("application/problem+json");
    expect(json.json.errors).toEqual([{ field: "timezone", message: expect.stringContaining("IANA") }]);
    untick(form, "channels", "sms");
    const page = await post(path, form);
    expect(page.status).toBe(400);
    expect(page.text).toContain(`aria-invalid="true"`);
    expect(page.text).toContain("Your changes were not saved");
    // The page comes back as the recipient filled it in, with a fresh form token.
    const shown = formOf(page.text);
    expect(shown.getAll("channels")).toEqual(["email"]);
    expect(shown.get("timezone")).toBe("Mars/Olympus");
    expect(shown.get("form")).not.toBe(form.get("form"));
    form.append("channels", "sms");
    form.set("timezone", "UTC");
    form.set("quietHours.start", "22:00");
    const half = await post(path, form, JSON_ACCEPT);
    expect(half.status).toBe(400);
    expect(half.json.errors[0].field).toBe("quietHours.end");
    form.set("quietHours.end", "7pm");
    expect((await post(path, form, JSON_ACCEPT)).json.errors[0].field).toBe("quietHours.end");
    expect((await prefsOf()).exists).toBe(false);
  });
});

describe("the preference center's link and form", () => {
  it("says an expired link has expired, as a page or as problem+json", async () => {
    const { token } = await mintPreferenceLink(testEnv.ENCRYPTION_KEY!, BASE, { tenantId, entityType: "customer", entityId: "c1", expiresAt: new Date(Date.now() - 1000) });
    const page = await call("GET", `/preferences/${token}`, { headers: HTML });
    expect(page.status).toBe(410);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain("This link has expired");
    expect(page.text).toContain("Acme");
    const json = await call("GET", `/preferences/${token}`, { headers: JSON_ACCEPT });
    expect(json.status).toBe(410);
    expect(json.json).toMatchObject({ status: 410, code: "link_expired" });
    expect((await post(`/preferences/${token}`, new URLSearchParams({ optOut: "on" }), JSON_ACCEPT)).status).toBe(410);
  });

  it("refuses a forged link, and one edited to another tenant or recipient", async () => {
    const other = await createTenant("Other");
    const path = await linkFor();
    const [payload, mac] = path.slice("/preferences/".length).split(".");
    const claims = JSON.parse(new TextDecoder().decode(base64urlDecode(payload!)));
    const edited = [
      { ...claims, t: other.tenantId },
      { ...claims, i: "c2" },
      { ...claims, x: claims.x + 86_400 * 365 },
    ].map((c) => `${base64urlEncode(JSON.stringify(c))}.${mac}`);
    const flipped = `${payload}.${mac!.slice(0, -2)}${mac!.endsWith("AA") ? "BB" : "AA"}`;
    for (const token of [...edited, flipped, "not-a-token", `${payload}`]) {
      const res = await call("GET", `/preferences/${token}`, { headers: JSON_ACCEPT });
      expect(res.status, token).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    const page = await call("GET", `/preferences/${flipped}`, { headers: HTML });
    expect(page.status).toBe(404);
    expect(page.text).toContain("This link does not work");
    // An unsubscribe token is signed with the same secret, but for another purpose.
    const unsubscribe = await signToken(testEnv.ENCRYPTION_KEY!, { k: "u", t: tenantId, c: "c1" });
    expect((await call("GET", `/preferences/${unsubscribe}`, { headers: JSON_ACCEPT })).status).toBe(404);
  });

  it("keeps each tenant's link to its own recipient", async () => {
    const other = await createTenant("Other");
    await call("PATCH", "/api/settings", { key: other.key, body: { branding: { name: "Other Corp" } } });
    await call("PATCH", "/api/communication-preferences/customer/c1", { key: other.key, body: { emailEnabled: false } });
    const path = await linkFor();
    const ours = await open(path);
    expect(ours.page).toContain(`<p class="brand">Acme</p>`);
    expect(ours.page).not.toContain("Other Corp");
    expect(ours.form.getAll("channels")).toContain("email");
    ours.form.set("optOut", "on");
    const theirs = await open(await linkFor("c1", other.key));
    expect(theirs.page).toContain("Other Corp");
    expect(theirs.form.getAll("channels")).not.toContain("email");
    expect((await post(path, ours.form)).status).toBe(303);
    expect((await prefsOf("c1")).optedOutAt).not.toBeNull();
    expect(await prefsOf("c1", other.key)).toMatchObject({ emailEnabled: false, optedOutAt: null });
  });

  it("needs the page's own form token, fresh and from this link, and a same-origin POST", async () => {
    const path = await linkFor();
    const { form } = await open(path);
    form.set("optOut", "on");
    const missing = new URLSearchParams(form);
    missing.delete("form");
    expect((await post(path, missing, JSON_ACCEPT)).status).toBe(403);
    const elsewhere = await open(await linkFor("c2"));
    const otherForm = elsewhere.form.get("form") ?? "";
    const swapped = new URLSearchParams(form);
    swapped.set("form", otherForm);
    expect((await post(path, swapped, JSON_ACCEPT)).status).toBe(403);
    const foreign = await post(path, form, { ...HTML, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.text).toContain("another site");
    expect((await prefsOf()).exists).toBe(false);
    expect((await post(path, form, { ...JSON_ACCEPT, origin: BASE })).status).toBe(200);
    expect((await prefsOf()).optedOutAt).not.toBeNull();
  });
});

describe("branding settings", () => {
  it("are validated, shown with defaults, and cleared by null", async () => {
    expect((await call("GET", "/api/settings", { key })).json.branding).toEqual({ name: null, logoUrl: null, primaryColor: null });
    for (const [branding, field] of [
      [{ primaryColor: "blue" }, "branding.primaryColor"],
      [{ logoUrl: "http://cdn.acme.test/logo.png" }, "branding.logoUrl"],
      [{ logoUrl: "javascript:alert(1)" }, "branding.logoUrl"],
      [{ name: "" }, "branding.name"],
      [{ font: "Comic Sans" }, "branding"],
    ] as const) {
      const res = await call("PATCH", "/api/settings", { key, body: { branding } });
      expect(res.status, field).toBe(422);
      expect(res.json.errors[0].field).toBe(field);
    }
    await call("PATCH", "/api/settings", { key, body: { branding: { name: "Acme Billing", primaryColor: "#0f766e" } } });
    const cleared = await call("PATCH", "/api/settings", { key, body: { branding: { primaryColor: null } } });
    expect(cleared.json.branding).toEqual({ name: "Acme Billing", logoUrl: null, primaryColor: null });
  });
});
