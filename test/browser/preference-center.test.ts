/**
 * The hosted preference center (`/preferences/:token`) in a real headless Chromium, against both
 * Workers built and served as in the bench. A recipient opens the link the tenant minted,
 * changes choices and saves — with JavaScript (saved in place) and without (a plain form POST) —
 * and the tenant's API then shows the change. axe-core checks the page for accessibility.
 */
import type { Browser, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { axeSerious, call, chromiumSession, createSandboxTenant, SCREENSHOT_DIR, type Stack, watchPageErrors } from "./stack";

const SCREENSHOT = `${SCREENSHOT_DIR}preference-center.png`;
const LOGO = "https://logo.acme.test/acme.svg";
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#0f766e"/></svg>`;
const SETTLE = { timeout: 5_000, interval: 50 };

let stack: Stack | undefined;
let browser: Browser | undefined;
let page: Page;
let apiKey: string;
let link: string;
const pageErrors: string[] = [];

const api = (method: string, path: string, body?: unknown) => call(stack!.url, apiKey, method, path, body);
const prefs = () => api("GET", "/api/communication-preferences/user/ada");

/** Drops the failed responses a step expects (a refusal it asserts) from the page errors. */
const forgive = (expected: RegExp) => pageErrors.splice(0, pageErrors.length, ...pageErrors.filter((e) => !expected.test(e)));

/** Why Chromium could not start: reported by every test, which fails (a failing beforeAll only skips them). */
const session = chromiumSession();

async function newPage(javaScriptEnabled: boolean) {
  // bypassCSP: the page allows only its own script, and the test injects axe-core.
  const p = await browser!.newPage({ viewport: { width: 720, height: 900 }, javaScriptEnabled, bypassCSP: true });
  // The logo stays on this machine: the route answers it before any network.
  await p.route("https://logo.acme.test/**", (route) => route.fulfill({ status: 200, contentType: "image/svg+xml", body: SVG }));
  watchPageErrors(p, pageErrors);
  return p;
}

/** Serious and critical axe-core violations on the page as it is now. */
const axeViolations = async (p: Page) => (await axeSerious(p)).findings;

beforeAll(async () => {
  if (!session.ready()) return;
  ({ browser, stack } = session);
  ({ apiKey } = await createSandboxTenant(stack.url, stack.adminToken, "browser preference center"));
  await api("POST", "/api/providers", { channel: "sms", provider: "sandbox" });
  for (const [code, type] of [["invoice_ready", "invoice"], ["weekly_news", "newsletter"]]) {
    await api("POST", "/api/communication-templates", { name: code, code, channel: "email", type, subjectTemplate: "Hello", bodyTemplate: "Hello" });
  }
  await api("PATCH", "/api/settings", { branding: { name: "Acme Billing", logoUrl: LOGO, primaryColor: "#0f766e" } });
  ({ url: link } = await api("GET", "/api/recipients/user/ada/preference-link?expiresIn=3600"));
  page = await newPage(true);
});

describe("the preference center in Chromium", () => {
  it("opens from the minted link in the tenant's branding, with every choice on", async () => {
    expect(link.startsWith(`${stack!.url}/preferences/`)).toBe(true);
    await page.goto(link);
    await expect(page.title()).resolves.toBe("Notification preferences · Acme Billing");
    expect(await page.textContent(".brand")).toBe("Acme Billing");
    expect(await page.locator("header img").evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
    const invoice = page.getByRole("group", { name: "Invoice" });
    expect(await invoice.getByLabel("Email").isChecked()).toBe(true);
    expect(await invoice.getByLabel("Text message (SMS)").isChecked()).toBe(true);
    expect(await page.getByLabel("Unsubscribe from everything").isChecked()).toBe(false);
  });

  it("has no serious or critical accessibility violations", async () => {
    expect(await axeViolations(page)).toEqual([]);
  });

  it("saves a changed choice in place, and the API shows it", async () => {
    await page.getByRole("group", { name: "Newsletter" }).getByLabel("Text message (SMS)").uncheck();
    await page.getByLabel("From", { exact: true }).fill("22:00");
    await page.getByLabel("Until", { exact: true }).fill("07:00");
    await page.getByLabel("Time zone").selectOption("Europe/Paris");
    await page.getByRole("button", { name: "Save preferences" }).click();
    await expect.poll(() => page.textContent("#status"), SETTLE).toBe("Your preferences are saved.");
    expect(await prefs()).toMatchObject({ preferences: { newsletter: ["email"] }, quietHours: { start: "22:00", end: "07:00" }, timezone: "Europe/Paris" });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(await axeViolations(page)).toEqual([]);
  });

  it("shows a bad value next to its field without saving", async () => {
    await page.getByLabel("Until", { exact: true }).fill("");
    await page.getByRole("button", { name: "Save preferences" }).click();
    await expect.poll(() => page.textContent("#status"), SETTLE).toBe("give both a start and an end, or neither");
    expect((await prefs()).quietHours).toEqual({ start: "22:00", end: "07:00" });
    await page.getByLabel("Until", { exact: true }).fill("07:00");
    forgive(/^400 /);
  });

  it("works without JavaScript: a plain form POST saves and the page says so", async () => {
    const plain = await newPage(false);
    await plain.goto(link);
    await plain.getByRole("group", { name: "Channels" }).getByLabel("Text message (SMS)").uncheck();
    await Promise.all([plain.waitForURL(/\?saved=1$/), plain.getByRole("button", { name: "Save preferences" }).click()]);
    expect(await plain.textContent("#status")).toBe("Your preferences are saved.");
    expect(await plain.getByRole("group", { name: "Channels" }).getByLabel("Text message (SMS)").isChecked()).toBe(false);
    expect(await prefs()).toMatchObject({ smsEnabled: false, emailEnabled: true });
    const consents = await api("GET", "/api/communication-preferences/user/ada/consents");
    expect(consents.results).toEqual([expect.objectContaining({ channel: "sms", status: "revoked", source: "preference_center" })]);
    await plain.close();
  });

  it("unsubscribes from everything", async () => {
    await page.reload();
    await page.getByLabel("Unsubscribe from everything").check();
    // The other choices do not apply any more: the page greys them out.
    expect(await page.getByRole("group", { name: "Channels" }).getByLabel("Email").isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Save preferences" }).click();
    await expect.poll(() => page.textContent("#status"), SETTLE).toBe("Your preferences are saved.");
    expect((await prefs()).optedOutAt).not.toBeNull();
  });

  it("says an altered link does not work", async () => {
    const res = await page.goto(`${link.slice(0, -3)}xyz`);
    expect(res?.status()).toBe(404);
    expect(await page.textContent("h1")).toBe("This link does not work");
    forgive(/^404 /);
  });

  it("ran without a page error or a Worker error", () => {
    expect(pageErrors).toEqual([]);
    expect(stack!.workerErrors).toEqual([]);
  });
});
