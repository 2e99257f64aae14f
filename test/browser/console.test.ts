/**
 * The admin console (/console/) in a real headless Chromium, against both Workers built and
 * served as in the bench (bench/stack.mjs): one operator's session on one page, signing in with
 * the keyboard, sending through the sandbox provider, and using every page. Each step checks what
 * the page shows and, where it changed something, what the API now says. Screenshots of the main
 * pages go to SCREENSHOT_DIR (test-results/, or docs/ under `npm run screenshots`) as console-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { call, chromiumSession, createSandboxTenant, SCREENSHOT_DIR, type Stack, watchPageErrors } from "./stack";

// page.evaluate takes expressions as strings here: the test project's types have no DOM lib.
const shot = (name: string) => `${SCREENSHOT_DIR}console-${name}.png`;
/** A send crosses the local queue (up to 1 s batching) and the page polls every 1.5 s. */
const SETTLE = { timeout: 10_000, interval: 100 };

let stack: Stack | undefined;
let browser: Browser | undefined;
let page: Page;
let apiKey: string;
let emailId: string;
const pageErrors: string[] = [];

const api = (method: string, path: string, body?: unknown) => call(stack!.url, apiKey, method, path, body);

const heading = () => page.textContent("#view h1");
/** The template variables form: one field per variable the template declares. */
const fillVariables = async (vars: Record<string, string>) => {
  for (const [name, value] of Object.entries(vars)) await page.getByLabel(name, { exact: true }).fill(value);
};
/** Toasts fade after a few seconds; screenshots should show the page, not the last message. */
const screenshot = async (name: string) => {
  await page.evaluate(`document.getElementById("toast").hidden = true`);
  await page.screenshot({ path: shot(name), fullPage: true });
};
const go = async (hash: string, title: string) => {
  await page.click(`nav a[href="${hash}"]`);
  await expect.poll(heading, SETTLE).toBe(title);
  // A missing value must show as a dash or nothing, never as JavaScript's own words for it.
  expect(await page.textContent("#view")).not.toMatch(/\b(null|undefined|NaN|\[object Object\])\b/);
};

const session = chromiumSession();

beforeAll(async () => {
  if (!session.ready()) return;
  ({ browser, stack } = session);
  ({ apiKey } = await createSandboxTenant(stack.url, stack.adminToken, "browser console"));
  await api("POST", "/api/providers", { channel: "sms", provider: "sandbox" });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(10_000);
  watchPageErrors(page, pageErrors);
});

describe("the admin console in Chromium", () => {
  it("is served with its Content-Security-Policy and asks for an API key", async () => {
    const res = await page.goto(`${stack!.url}/console/`);
    expect(res!.headers()["content-security-policy"]).toContain("script-src 'self'");
    expect(await page.isVisible("#sign-in")).toBe(true);
    expect(await page.isVisible("nav")).toBe(false);
  });

  it("signs in with the keyboard alone; the key stays out of the URL and localStorage", async () => {
    // The page puts focus in the key field; Tab from the skip link reaches it too.
    expect(await page.evaluate("document.activeElement?.id")).toBe("api-key");
    await page.keyboard.press("Shift+Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    await page.keyboard.press("Tab");
    await page.keyboard.type("hk_not-a-real-key");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.textContent("#api-key-error"), SETTLE).toBe("That API key was not accepted.");
    expect(await page.getAttribute("#api-key", "aria-invalid")).toBe("true");
    await page.keyboard.press("Control+A");
    await page.keyboard.type(apiKey);
    await page.keyboard.press("Enter");
    await expect.poll(heading, SETTLE).toBe("Communication history");
    // Focus moves to the new page's heading, for keyboard and screen-reader users.
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("H1");
    expect(page.url()).not.toContain(apiKey);
    expect(await page.evaluate("JSON.stringify(localStorage)")).toBe("{}");
    expect(await page.evaluate(`sessionStorage.getItem("herald.apiKey")`)).toBe(apiKey);
    expect(await page.textContent("#history-count")).toBe("0 communications");
  });

  it("sends an email through the sandbox and follows it to delivered, with its timeline", async () => {
    await go("#/send", "Send a message");
    await page.getByLabel("Recipient contact").fill("ada@example.com");
    await page.getByLabel("Subject (email)").fill("Your invoice INV-42");
    await page.getByLabel("Message").fill("<p>Hello <b>Ada</b>, your invoice is ready.</p><script>parent.document.title='owned'</script>");
    await page.click("#view form button[type=submit]");
    await expect.poll(heading, SETTLE).toBe("Your invoice INV-42");
    emailId = decodeURIComponent(page.url().split("#/communications/")[1]!);
    // The page follows the communication until the sandbox's receipt lands.
    await expect.poll(() => page.textContent(".facts .badge"), SETTLE).toBe("delivered");
    const timeline = await page.$$eval("#timeline li", (lis) => lis.map((li) => li.textContent ?? ""));
    expect(timeline.map((t) => / (status|attempt) /.exec(t)?.[1])).toEqual(["status", "attempt", "status", "status"]);
    expect(timeline.join("\n")).toMatch(/queued[\s\S]*sandbox[\s\S]*sent[\s\S]*delivered/);
    expect((await api("GET", `/api/communications/${emailId}`)).status).toBe("delivered");
    // The email's HTML is shown in a sandboxed frame: rendered, but its script never runs.
    const frame = page.locator("iframe.email-frame");
    expect(await frame.getAttribute("sandbox")).toBe("");
    expect(await page.frameLocator("iframe.email-frame").locator("b").textContent()).toBe("Ada");
    expect(await page.title()).toBe("Herald console");
    await screenshot("detail");
  });

  it("lists the send in the history with its status, and filters it", async () => {
    await go("#/history", "Communication history");
    const row = page.locator("tbody tr", { hasText: "Your invoice INV-42" });
    await expect.poll(() => row.locator(".badge").textContent(), SETTLE).toBe("delivered");
    await page.getByLabel("Channel").selectOption("sms");
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.textContent("#history-count"), SETTLE).toBe("0 communications");
    expect(page.url()).toContain("channel=sms");
    await page.getByLabel("Channel").selectOption("email");
    await page.getByLabel("Status").selectOption("delivered");
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.textContent("#history-count"), SETTLE).toBe("1 communication");
    await row.getByRole("link").click();
    await expect.poll(heading, SETTLE).toBe("Your invoice INV-42");
    await page.goBack();
    await expect.poll(heading, SETTLE).toBe("Communication history");
    await screenshot("history");
  });

  it("creates an SMS template, saves a new version and previews it with its segment count", async () => {
    await go("#/templates", "Templates");
    await page.click("text=New template");
    await expect.poll(heading, SETTLE).toBe("New template");
    await page.getByLabel("Name").fill("Payment reminder");
    await page.getByLabel("Code").fill("payment_reminder");
    await page.getByLabel("Channel").selectOption("sms");
    await page.getByLabel("Type").fill("payment_link");
    await page.getByLabel("Variables").fill("name, amount");
    await page.getByLabel("Body").fill("Hi {{name}}, {{amount}} is due.");
    await page.click("#view form button[type=submit]");
    await expect.poll(heading, SETTLE).toBe("Payment reminder");
    const preview = page.locator("#template-preview");
    await fillVariables({ name: "Ada", amount: "120.00 EUR" });
    await expect.poll(() => preview.locator("pre").textContent(), SETTLE).toBe("Hi Ada, 120.00 EUR is due.");
    expect(await preview.locator("#sms-segments").textContent()).toBe("1 SMS segment · 26 characters · GSM-7");

    // A longer body with an emoji: UCS-2, so 70 units per single message and 67 per part.
    await page.getByLabel("Body").fill("Hi {{name}} 👋, {{amount}} is due today. Pay with the link we sent by email so that nothing is late.");
    await page.click("button:has-text('Save as a new version')");
    await expect.poll(() => page.textContent("#view .muted"), SETTLE).toContain("active version v2");
    await fillVariables({ name: "Ada", amount: "120.00 EUR" });
    await expect.poll(() => preview.locator("#sms-segments").textContent(), SETTLE).toMatch(/^2 SMS segments · \d+ characters · UCS-2$/);
    const versions = await page.$$eval("table tbody tr td:first-child", (tds) => tds.map((td) => td.textContent));
    expect(versions.sort()).toEqual(["v1", "v2"]);
    const [stored] = (await api("GET", "/api/communication-templates?code=payment_reminder")).results;
    expect(stored).toMatchObject({ version: 2, channel: "sms", bodyTemplate: expect.stringContaining("👋") });
    await screenshot("templates");
  });

  it("previews a template live in the send dialog and sends it", async () => {
    await go("#/send", "Send a message");
    await page.getByLabel("Channel").selectOption("sms");
    await page.getByLabel("Recipient contact").fill("+14155550123");
    await page.getByRole("radio", { name: "Template" }).check();
    await expect.poll(() => page.locator("select[name=templateId] option").allTextContents(), SETTLE).toContain("Payment reminder — payment_reminder (en)");
    await page.locator("select[name=templateId]").selectOption({ label: "Payment reminder — payment_reminder (en)" });
    await fillVariables({ name: "Ben", amount: "9.99 EUR" });
    await expect.poll(() => page.locator("#send-preview pre").textContent(), SETTLE).toContain("Hi Ben 👋, 9.99 EUR is due today.");
    expect(await page.textContent("#send-preview #sms-segments")).toMatch(/^2 SMS segments/);
    await screenshot("send");
    await page.click("#view form button[type=submit]");
    await expect.poll(() => page.textContent(".facts .badge"), SETTLE).toBe("delivered");
    expect(await page.textContent("pre.message")).toContain("Hi Ben 👋, 9.99 EUR is due today.");
  });

  it("shows a send's field errors next to the field", async () => {
    await go("#/send", "Send a message");
    await page.getByLabel("Channel").selectOption("sms");
    await page.getByLabel("Recipient contact").fill("not a phone");
    await page.getByLabel("Message").fill("hello");
    await page.click("#view form button[type=submit]");
    const contact = page.getByLabel("Recipient contact");
    await expect.poll(() => contact.getAttribute("aria-invalid"), SETTLE).toBe("true");
    expect(await page.textContent(`#${await contact.getAttribute("id")}-error`)).toContain("E.164");
  });

  it("changes a recipient's preferences", async () => {
    await go("#/preferences", "Recipient preferences");
    await page.getByLabel("Entity id").fill("ada");
    await page.click("text=Show preferences");
    await expect.poll(() => page.isVisible("#preferences-form"), SETTLE).toBe(true);
    expect(await page.textContent("#preferences-form")).toContain("No preferences stored yet");
    await page.getByLabel("SMS", { exact: true }).uncheck();
    await page.getByLabel("Time zone").fill("Europe/Paris");
    await page.getByLabel("From").fill("22:00");
    await page.getByLabel("Until").fill("07:30");
    await page.click("text=Save preferences");
    await expect.poll(async () => (await api("GET", "/api/communication-preferences/customer/ada")).smsEnabled, SETTLE).toBe(false);
    expect(await api("GET", "/api/communication-preferences/customer/ada")).toMatchObject({
      exists: true,
      emailEnabled: true,
      timezone: "Europe/Paris",
      quietHours: { start: "22:00", end: "07:30" },
    });
    await expect.poll(() => page.textContent("#preferences-form"), SETTLE).toContain("Last changed");
    expect(await page.getByLabel("SMS", { exact: true }).isChecked()).toBe(false);
    await page.getByLabel("Time zone").fill("Mars/Olympus");
    await page.click("text=Save preferences");
    await expect.poll(() => page.getByLabel("Time zone").getAttribute("aria-invalid"), SETTLE).toBe("true");
  });

  it("adds a suppression and removes it again", async () => {
    await go("#/suppressions", "Suppressions");
    expect(await page.isVisible("#no-suppressions")).toBe(true);
    await page.getByLabel("Contact").fill("Bounced@Example.com");
    await page.getByLabel("Reason").selectOption("bounce");
    await page.click("text=Add suppression");
    const row = page.locator("tbody tr", { hasText: "bounced@example.com" });
    await expect.poll(() => row.count(), SETTLE).toBe(1);
    expect(await row.textContent()).toContain("bounce");
    expect((await api("GET", "/api/suppressions")).results).toMatchObject([{ channel: "email", contact: "bounced@example.com", reason: "bounce" }]);
    await page.getByRole("button", { name: "Remove bounced@example.com (email)" }).click();
    await expect.poll(() => page.isVisible("#no-suppressions"), SETTLE).toBe(true);
    expect((await api("GET", "/api/suppressions")).results).toEqual([]);
  });

  it("lists providers with their webhook URLs and never shows credentials", async () => {
    await go("#/providers", "Providers");
    expect(await page.locator("tbody tr").count()).toBe(2);
    await page.getByLabel("Channel").selectOption("email");
    await page.getByLabel("Provider", { exact: true }).selectOption("postmark");
    await page.getByLabel("serverToken (required)").fill("pm-secret-token-123");
    await page.getByLabel("from (required)").fill("billing@acme.test");
    await page.click("text=Add provider");
    await expect.poll(() => page.locator("tbody tr").count(), SETTLE).toBe(3);
    const row = page.locator("tbody tr", { hasText: "postmark" });
    // PUBLIC_URL follows the stack's port, as it follows PORT under `npm start`.
    expect(await row.locator("code.url").textContent()).toMatch(new RegExp(`^${stack!.url.replaceAll(".", "\\.")}/webhooks/postmark/`));
    expect(await page.content()).not.toContain("pm-secret-token-123");
  });

  it("draws the stats charts from the day's traffic", async () => {
    await go("#/stats", "Stats");
    for (const id of ["chart-volume", "chart-delivery", "chart-open", "chart-click"]) {
      const chart = page.locator(`svg#${id}`);
      expect(await chart.getAttribute("role"), id).toBe("img");
      expect(await chart.locator("title").textContent(), id).toBeTruthy();
      const marks = id === "chart-volume" ? "rect" : "circle";
      for (const channel of ["email", "sms"]) expect(await chart.locator(`g.series[data-series="${channel}"] ${marks}`).count(), `${id} ${channel}`).toBe(1);
    }
    // Today: one email and one SMS, both delivered (the bad send was refused, never accepted).
    const bar = (channel: string) => page.locator(`svg#chart-volume g.series[data-series="${channel}"] rect`).getAttribute("height");
    expect(await bar("email")).toBe(await bar("sms"));
    expect(await page.locator('svg#chart-delivery g.series[data-series="email"] circle').getAttribute("cy")).toBe("16.0");
    expect(await page.$$eval(".legend li", (lis) => lis.map((li) => li.textContent))).toEqual(["email", "sms"]);
    expect(await page.textContent(".tiles")).toContain("Delivery rate100%");
    await screenshot("stats");
  });

  it("fits a phone screen and links to the inbox demo", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await go("#/history", "Communication history");
    // Nothing wider than the screen except inside the horizontally scrolling table regions.
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await screenshot("history-phone");
    expect(await page.getAttribute("nav >> text=Inbox demo", "href")).toBe("/inbox/demo");
  });

  it("signs out, forgetting the key", async () => {
    await page.click("#sign-out");
    expect(await page.isVisible("#sign-in")).toBe(true);
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
  });

  it("ran without a page error or a Worker error besides the ones the steps provoked", () => {
    const provoked = [
      /^401 .*\/api\/communications\?size=1$/, // the wrong key at sign-in
      /^422 .*\/api\/communications\/send$/, // the phone number that is not one
      /^422 .*\/api\/communication-preferences\/customer\/ada$/, // the time zone that is not one
      /^Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed/, // the email's <script>
    ];
    for (const p of provoked) expect(pageErrors.some((e) => p.test(e)), String(p)).toBe(true);
    expect(pageErrors.filter((e) => !provoked.some((p) => p.test(e)))).toEqual([]);
    expect(stack!.workerErrors).toEqual([]);
  });
});
