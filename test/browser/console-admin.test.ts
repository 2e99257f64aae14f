/**
 * The console's administration pages in a real headless Chromium against both Workers (as in
 * console.test.ts): API keys, webhooks with a loopback receiver, the audit log, settings, the
 * provider form built from each kind's fields, template variables with a test send, push on the
 * Send page, history search, toasts that stay off the next page — and axe-core run on every page
 * the navigation offers (whatever other pages are added to it) with no serious or critical finding.
 * Each step does what a user would and checks the effect through the API.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeSerious, call, chromiumSession, createSandboxTenant, SCREENSHOT_DIR, type Stack, watchPageErrors } from "./stack";

const SETTLE = { timeout: 15_000, interval: 100 };

let stack: Stack | undefined;
let browser: Browser | undefined;
let page: Page;
let apiKey: string;
let receiver: Server;
let receiverUrl: string;
const received: { type: string; id: string }[] = [];
const pageErrors: string[] = [];
const session = chromiumSession();

const api = (method: string, path: string, body?: unknown) => call(stack!.url, apiKey, method, path, body);
/** The status a key gets, for the calls that are meant to fail. */
const statusWith = async (key: string, path: string) => (await fetch(`${stack!.url}${path}`, { headers: { authorization: `Bearer ${key}` } })).status;
const heading = () => page.textContent("#view h1");
const go = async (hash: string, title: string) => {
  await page.click(`#nav a[href="${hash}"]`);
  await expect.poll(heading, SETTLE).toBe(title);
  expect(await page.textContent("#view")).not.toMatch(/\b(null|undefined|NaN|\[object Object\])\b/);
};
const screenshot = async (name: string) => {
  await page.evaluate(`document.getElementById("toast").hidden = true`);
  await page.screenshot({ path: `${SCREENSHOT_DIR}console-${name}.png`, fullPage: true });
};

/** axe-core on the page as it is now: the serious and critical violations, described. */
const axeFindings = async (where: string) => (await axeSerious(page, where)).findings;

beforeAll(async () => {
  if (!session.ready()) return;
  ({ browser, stack } = session);
  // A tenant's webhook receiver on loopback (the stack allows loopback URLs, as `npm start` does).
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const event = JSON.parse(body || "{}");
      received.push({ type: event.type, id: String(req.headers["webhook-id"]) });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/herald`;
  stack.allowOutbound(new URL(receiverUrl).origin);
  ({ apiKey } = await createSandboxTenant(stack.url, stack.adminToken, "browser console admin"));
  await api("POST", "/api/providers", { channel: "sms", provider: "sandbox" });
  page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
  page.setDefaultTimeout(15_000);
  // Rotate, revoke and delete ask first; the user says yes.
  page.on("dialog", (d) => d.accept());
  watchPageErrors(page, pageErrors);
});

afterAll(async () => {
  receiver?.close();
});

describe("the console's administration pages in Chromium", () => {
  it("finds no serious or critical accessibility violation on the sign-in page", async () => {
    await page.goto(`${stack!.url}/console/`);
    expect(await page.isVisible("#sign-in")).toBe(true);
    expect(await axeFindings("sign-in")).toEqual([]);
    await page.fill("#api-key", apiKey);
    await page.press("#api-key", "Enter");
    await expect.poll(heading, SETTLE).toBe("Communication history");
  });

  it("mints a scoped API key, shows its secret once, rotates it and revokes it", async () => {
    await go("#/keys", "API keys");
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(await page.textContent("tbody tr")).toContain("this session's key");
    await page.getByLabel("Name").fill("analytics");
    await page.getByRole("checkbox", { name: "stats:read", exact: true }).check();
    await page.getByRole("checkbox", { name: "audit:read", exact: true }).check();
    await page.click("text=Create key");
    const secret = (await page.locator("#new-secret").textContent({ timeout: SETTLE.timeout }))!;
    expect(secret).toMatch(/^hk_/);
    await screenshot("keys");
    // The key works with exactly its scopes.
    expect(await statusWith(secret, "/api/communications/stats")).toBe(200);
    expect(await statusWith(secret, "/api/providers")).toBe(403);
    const row = page.locator("tbody tr", { hasText: "analytics" });
    expect(await row.textContent()).toContain("stats:read, audit:read");
    // Dismissed, the secret is gone from the page for good.
    await page.click("text=I have saved it");
    expect(await page.content()).not.toContain(secret);

    await row.getByRole("button", { name: /^Rotate analytics/ }).click();
    await expect.poll(() => page.locator("#new-secret").count(), SETTLE).toBe(1);
    const rotated = (await page.locator("#new-secret").textContent())!;
    expect(rotated).not.toBe(secret);
    expect(await statusWith(rotated, "/api/communications/stats")).toBe(200);
    // The old secret lives on for the overlap.
    expect(await statusWith(secret, "/api/communications/stats")).toBe(200);
    const keys = (await api("GET", "/api/keys")).results as { name: string; revokedAt: string | null }[];
    expect(keys.filter((k) => k.name === "analytics")).toHaveLength(2);

    // Revoke both analytics keys: the new one first (it is the newest row).
    for (const k of [rotated, secret]) {
      const before = await page.locator("tbody tr", { hasText: "analytics" }).filter({ hasText: "active" }).count();
      await page.locator("tbody tr", { hasText: "analytics" }).filter({ hasText: "active" }).last().getByRole("button", { name: /^Revoke/ }).click();
      await expect.poll(() => page.locator("tbody tr", { hasText: "analytics" }).filter({ hasText: "active" }).count(), SETTLE).toBe(before - 1);
      expect(await statusWith(k, "/api/communications/stats")).toBe(401);
    }
    expect(await page.locator("#toast-text").textContent()).toBe("Revoked analytics.");
  });

  it("adds a webhook endpoint, sees its deliveries, replays one and disables it", async () => {
    await go("#/webhooks", "Webhooks");
    expect(await page.isVisible("#no-webhooks")).toBe(true);
    await page.getByLabel("URL").fill(receiverUrl);
    await page.getByLabel("Description").fill("status to the CRM");
    await page.getByRole("checkbox", { name: "*", exact: true }).uncheck();
    await page.getByRole("checkbox", { name: "communication.delivered" }).check();
    await page.click("text=Add endpoint");
    await expect.poll(() => page.locator("#new-secret").textContent(), SETTLE).toMatch(/^whsec_/);
    const [endpoint] = (await api("GET", "/api/webhooks")).results;
    expect(endpoint).toMatchObject({ url: receiverUrl, description: "status to the CRM", eventTypes: ["communication.delivered"], enabled: true });
    await screenshot("webhooks");

    await api("POST", "/api/communications/send", { channel: "sms", recipientContact: "+14155550123", content: "Your code is 123456", type: "otp" });
    await expect.poll(() => received.filter((r) => r.type === "communication.delivered").length, SETTLE).toBe(1);

    await page.locator("tbody tr a", { hasText: receiverUrl }).click();
    await expect.poll(heading, SETTLE).toBe("status to the CRM");
    const delivery = page.locator("tbody tr", { hasText: "communication.delivered" });
    await expect.poll(() => delivery.locator(".badge").textContent(), SETTLE).toBe("succeeded");
    await delivery.getByRole("button", { name: /^Replay communication\.delivered/ }).click();
    await expect.poll(() => page.locator("#toast-text").textContent(), SETTLE).toBe("Replaying communication.delivered.");
    // The same event (same webhook-id) reaches the receiver again.
    await expect.poll(() => received.length, SETTLE).toBe(2);
    expect(received[1]!.id).toBe(received[0]!.id);

    await page.getByLabel("Enabled").uncheck();
    await page.click("button:has-text('Save')");
    await expect.poll(async () => (await api("GET", `/api/webhooks/${endpoint.id}`)).enabled, SETTLE).toBe(false);
    // The page redraws after saving; the next edit goes into the redrawn form.
    await expect.poll(() => page.locator("#toast-text").textContent(), SETTLE).toBe("Endpoint saved.");
    // A URL the API refuses is named beside the field.
    await page.getByLabel("URL").fill("not a url");
    await page.click("button:has-text('Save')");
    await expect.poll(() => page.getByLabel("URL").getAttribute("aria-invalid"), SETTLE).toBe("true");
  });

  it("adds a provider through the fields of its kind, credentials never shown", async () => {
    await go("#/providers", "Providers");
    await page.getByLabel("Channel").selectOption("email");
    await page.getByLabel("Provider", { exact: true }).selectOption("postmark");
    await page.getByLabel("serverToken (required)").fill("pm-secret-token-123");
    await page.getByLabel("from (required)").fill("billing@acme.test");
    await page.click("text=Add provider");
    await expect.poll(async () => (await api("GET", "/api/providers")).results.some((p: { provider: string }) => p.provider === "postmark"), SETTLE).toBe(true);
    await expect.poll(() => page.locator("tbody tr", { hasText: "postmark" }).count(), SETTLE).toBe(1);
    expect(await page.content()).not.toContain("pm-secret-token-123");
    // A field the provider's schema refuses is marked where it was typed.
    await page.getByLabel("Channel").selectOption("sms");
    await page.getByLabel("Provider", { exact: true }).selectOption("twilio");
    await page.getByLabel("accountSid (required)").fill("nope");
    await page.getByLabel("authToken (required)").fill("token");
    await page.click("text=Add provider");
    await expect.poll(() => page.locator('[name="credentials.accountSid"]').getAttribute("aria-invalid"), SETTLE).toBe("true");
    await screenshot("providers");
  });

  it("previews a template with a variables form and sends a test; the toast stays off the next page", async () => {
    const t = await api("POST", "/api/communication-templates", { name: "Code", code: "login_code", channel: "sms", type: "otp", bodyTemplate: "Hi {{name}}, your code is {{code}}.", availableVariables: ["name", "code"] });
    await go("#/templates", "Templates");
    await page.click(`a[href="#/templates/${t.id}"]`);
    await expect.poll(heading, SETTLE).toBe("Code");
    await page.getByLabel("name", { exact: true }).fill("Ada");
    await page.getByLabel("code", { exact: true }).fill("424242");
    await expect.poll(() => page.locator("#template-preview pre").textContent(), SETTLE).toBe("Hi Ada, your code is 424242.");
    await page.getByLabel("Test contact").fill("+14155550188");
    await page.click("text=Send test");
    await expect.poll(() => page.locator("#toast-text").textContent(), SETTLE).toMatch(/^Test sent/);
    await expect.poll(() => page.textContent("pre.message"), SETTLE).toBe("Hi Ada, your code is 424242.");
    // The message sits in the flow above the page, never over it.
    const toast = (await page.locator("#toast").boundingBox())!;
    const main = (await page.locator("#view h1").boundingBox())!;
    expect(toast.y + toast.height).toBeLessThanOrEqual(main.y);
    const [sent] = (await api("GET", "/api/communications?recipient=%2B14155550188")).results;
    expect(sent).toMatchObject({ channel: "sms", type: "otp", templateId: t.id });
    // Going on to another page clears it.
    await go("#/history", "Communication history");
    expect(await page.isVisible("#toast")).toBe(false);
    // Dismissing works too.
    await page.evaluate(`document.querySelector("#toast").hidden = false`);
    await page.click("#toast-close");
    expect(await page.isVisible("#toast")).toBe(false);
  });

  it("sends a push to a recipient's device from the Send page and finds it in the history", async () => {
    await api("POST", "/api/providers", { channel: "push", provider: "sandbox" });
    await api("POST", "/api/recipients/customer/c-push/devices", { platform: "android", token: "fcm-token-for-the-console-test" });
    await go("#/send", "Send a message");
    await page.getByLabel("Channel").selectOption("push");
    expect(await page.isVisible('input[name="recipientContact"]')).toBe(false);
    await page.getByLabel("Recipient id").fill("c-push");
    await page.getByLabel("Subject (email) or title (push)").fill("Invoice ready");
    await page.getByLabel("Message", { exact: true }).fill("INV-42 is ready to pay.");
    await page.getByLabel("Opens (push)").fill("https://app.acme.test/invoices/42");
    await page.click("#view form button[type=submit]");
    await expect.poll(heading, SETTLE).toBe("Invoice ready");
    const id = decodeURIComponent(page.url().split("#/communications/")[1]!);
    expect(await api("GET", `/api/communications/${id}`)).toMatchObject({ channel: "push", recipientId: "c-push", metadata: { push: { clickUrl: "https://app.acme.test/invoices/42" } } });

    await go("#/history", "Communication history");
    await page.getByLabel("Channel").selectOption("push");
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.textContent("#history-count"), SETTLE).toBe("1 communication");
    await page.getByLabel("Channel").selectOption("");
    await page.getByLabel("Recipient", { exact: true }).fill("+14155550188");
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.textContent("#history-count"), SETTLE).toBe("1 communication");
    expect(page.url()).toContain("recipient=%2B14155550188");
  });

  it("changes the tenant's settings through the form", async () => {
    await go("#/settings", "Settings");
    await page.getByLabel("Open and click tracking").selectOption("herald");
    await page.getByLabel("Keep content and contacts for (days)").fill("30");
    await page.getByLabel(/Encrypt recipients/).check();
    await page.getByLabel("Time zone").fill("Europe/Paris");
    await page.getByLabel("Quiet hours from").fill("22:00");
    await page.getByLabel("Quiet hours until").fill("07:00");
    await page.getByLabel("Routing for sms").selectOption("weighted");
    await page.getByLabel("Name shown to recipients").fill("Acme Notifications");
    await page.getByLabel("Colour").fill("#1a73e8");
    await page.click("text=Save settings");
    await expect.poll(async () => (await api("GET", "/api/settings")).tracking, SETTLE).toBe("herald");
    expect(await api("GET", "/api/settings")).toMatchObject({
      retentionDays: 30,
      encryptContacts: true,
      routing: { sms: "weighted", email: "priority" },
      preferences: { timezone: "Europe/Paris", quietHours: { start: "22:00", end: "07:00" } },
      branding: { name: "Acme Notifications", logoUrl: null, primaryColor: "#1a73e8" },
    });
    await expect.poll(() => page.locator("#toast-text").textContent(), SETTLE).toBe("Settings saved.");
    expect(await page.getByLabel("Keep content and contacts for (days)").inputValue()).toBe("30");
    await screenshot("settings");
    await page.getByLabel("Time zone").fill("Mars/Olympus");
    await page.click("text=Save settings");
    await expect.poll(() => page.getByLabel("Time zone").getAttribute("aria-invalid"), SETTLE).toBe("true");
    expect((await api("GET", "/api/settings")).preferences.timezone).toBe("Europe/Paris");
  });

  it("filters the audit log and pages through it", async () => {
    // 26 changes of one kind: more than one page of 25.
    for (let i = 0; i < 26; i++) await api("POST", "/api/suppressions", { channel: "email", contact: `gone${i}@example.com` });
    await go("#/audit", "Audit log");
    expect(await page.textContent("tbody")).toContain("suppression.added");
    await page.getByLabel("Action").selectOption("key.revoked");
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.locator("tbody tr").count(), SETTLE).toBe(2);
    expect(await page.textContent("tbody")).toContain('key "default"');
    await page.getByLabel("Action").selectOption("");
    await page.getByLabel("Resource").selectOption("suppression");
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.locator("tbody tr").count(), SETTLE).toBe(25);
    await screenshot("audit");
    await page.click("text=Older →");
    await expect.poll(() => page.locator("tbody tr").count(), SETTLE).toBe(1);
    await page.click("text=← Newer");
    await expect.poll(() => page.locator("tbody tr").count(), SETTLE).toBe(25);
    expect(page.url()).toContain("resourceType=suppression");
  });

  it("has an accessibility check that does find a serious violation", async () => {
    // An unlabelled field, added to the page for this check only.
    await page.evaluate(`document.getElementById("view").append(Object.assign(document.createElement("input"), { id: "axe-probe" }))`);
    expect((await axeFindings("probe")).join("\n")).toMatch(/label \((serious|critical)\)[^\n]*#axe-probe/);
    await page.evaluate(`document.getElementById("axe-probe").remove()`);
  });

  it("finds no serious or critical accessibility violation on any page the navigation offers", async () => {
    const hrefs = (await page.$$eval("#nav a", (as) => as.map((a) => a.getAttribute("href")))).filter((h): h is string => !!h?.startsWith("#/"));
    expect(hrefs.length).toBeGreaterThanOrEqual(11);
    const findings: string[] = [];
    for (const href of hrefs) {
      await page.click(`#nav a[href="${href}"]`);
      await expect.poll(() => page.evaluate(`document.querySelector("#nav a[aria-current=page]")?.getAttribute("href")`), SETTLE).toBe(href);
      await expect.poll(async () => (await page.textContent("#view"))?.includes("Loading…"), SETTLE).toBe(false);
      await page.waitForLoadState("networkidle");
      findings.push(...(await axeFindings(href)));
    }
    // And the pages reached from them: a communication, a template, a webhook endpoint.
    const [comm] = (await api("GET", "/api/communications?size=1")).results;
    const [template] = (await api("GET", "/api/communication-templates?code=login_code")).results;
    const [endpoint] = (await api("GET", "/api/webhooks")).results;
    for (const hash of [`#/communications/${comm.id}`, `#/templates/${template.id}`, "#/templates/new", `#/webhooks/${endpoint.id}`]) {
      await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
      await expect.poll(async () => (await page.textContent("#view"))?.includes("Loading…"), SETTLE).toBe(false);
      await page.waitForLoadState("networkidle");
      findings.push(...(await axeFindings(hash)));
    }
    expect(findings).toEqual([]);
  });

  it("fits a phone screen on each administration page", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, title] of [["#/keys", "API keys"], ["#/webhooks", "Webhooks"], ["#/audit", "Audit log"], ["#/settings", "Settings"], ["#/providers", "Providers"]]) {
      await go(hash!, title!);
      // Nothing wider than the screen except inside the horizontally scrolling table regions.
      expect(await page.evaluate<number>("document.documentElement.scrollWidth"), hash).toBeLessThanOrEqual(390);
    }
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  it("ran without a page error or a Worker error besides the ones the steps provoked", () => {
    const provoked = [
      /^422 .*\/api\/webhooks\/[^/]+$/, // the URL that is not one
      /^422 .*\/api\/providers$/, // the Twilio account SID that is not one
      /^422 .*\/api\/settings$/, // the time zone that is not one
    ];
    for (const p of provoked) expect(pageErrors.some((e) => p.test(e)), String(p)).toBe(true);
    expect(pageErrors.filter((e) => !provoked.some((p) => p.test(e)))).toEqual([]);
    expect(stack!.workerErrors).toEqual([]);
  });
});
