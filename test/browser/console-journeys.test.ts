/**
 * The console's product pages in a real headless Chromium against both Workers (bench/stack.mjs),
 * walked as an operator would: audiences and campaigns (create, import a CSV, send an A/B
 * campaign and watch it finish), workflows and runs (build steps in the editor, publish, trigger
 * a test run, read its timeline, cancel one by its key and one alone), and conversations (a
 * signed inbound message arrives, the thread is read and answered). Each step checks the page and, where it changed
 * something, what the API now says; each page is also checked with axe-core for serious
 * accessibility violations. Screenshots go to SCREENSHOT_DIR as console-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { twilioSignature } from "../../src/channels/sms/twilio-webhook";
import { hubSignature } from "../../src/channels/whatsapp/meta-graph";
import { axeSerious, call, chromiumSession, createSandboxTenant, SCREENSHOT_DIR, type Stack, watchPageErrors } from "./stack";

const SETTLE = { timeout: 15_000, interval: 100 };

let stack: Stack | undefined;
let browser: Browser | undefined;
let page: Page;
let apiKey: string;
const pageErrors: string[] = [];
const session = chromiumSession();

const api = (method: string, path: string, body?: unknown) => call(stack!.url, apiKey, method, path, body);
const heading = () => page.textContent("#view h1");
const go = async (hash: string, title: string) => {
  await page.click(`nav a[href="${hash}"]`);
  await expect.poll(heading, SETTLE).toBe(title);
};
const screenshot = async (name: string) => {
  await page.evaluate(`document.getElementById("toast").hidden = true`);
  await page.screenshot({ path: `${SCREENSHOT_DIR}console-${name}.png`, fullPage: true });
};

/** axe-core's serious and critical violations on the page as it is now; a run that checked nothing would pass anything. */
async function seriousViolations(): Promise<string[]> {
  const { findings, passes } = await axeSerious(page);
  expect(passes).toBeGreaterThan(10);
  return findings;
}

beforeAll(async () => {
  if (!session.ready()) return;
  ({ browser, stack } = session);
  ({ apiKey } = await createSandboxTenant(stack.url, stack.adminToken, "console journeys"));
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(10_000);
  watchPageErrors(page, pageErrors);
  await page.goto(`${stack.url}/console/`);
  await page.fill("#api-key", apiKey);
  await page.press("#api-key", "Enter");
  await page.waitForSelector("#view h1:has-text('Communication history')");
});

describe("audiences and campaigns", () => {
  let audienceId: string;

  it("creates an audience, refusing one without a name", async () => {
    await go("#/audiences", "Audiences");
    expect(await page.textContent("#view")).toContain("No audiences yet.");
    await page.click("text=Create audience");
    expect(await page.getAttribute("#view form [name=name]", "aria-invalid")).toBe("true");
    await page.getByLabel("Name").fill("Newsletter");
    await page.getByLabel("Description").fill("Monthly news");
    await page.click("text=Create audience");
    await expect.poll(heading, SETTLE).toBe("Newsletter");
    audienceId = decodeURIComponent(page.url().split("#/audiences/")[1]!);
    expect(await api("GET", `/api/audiences/${audienceId}`)).toMatchObject({ name: "Newsletter", kind: "list", members: 0 });
    expect(await seriousViolations()).toEqual([]);
  });

  it("imports members from a CSV file, and names the row of a bad one", async () => {
    await page.setInputFiles("input[type=file]", { name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("recipientId,email\nada,not-an-email\n") });
    await page.click("button:has-text('Import members')");
    await expect.poll(() => page.textContent("#view .form-error"), SETTLE).toContain("row 2.email");
    const csv = "recipientId,name,email,plan\nada,Ada Lovelace,ada@example.com,pro\nben,Ben,ben@example.com,free\ncy,Cy,cy@example.com,pro\nada,Ada L.,ada@example.com,pro\n";
    await page.setInputFiles("input[type=file]", { name: "members.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.click("button:has-text('Import members')");
    await expect.poll(() => page.textContent("#import-result"), SETTLE).toBe("Imported 4 rows: 3 added, 0 updated, 1 duplicates. The audience has 3 members.");
    expect(await page.textContent("#audience-count")).toContain("3 members");
    const rows = await page.$$eval("tbody tr td:first-child", (tds) => tds.map((td) => td.textContent));
    expect(rows).toEqual(["customer/ada", "customer/ben", "customer/cy"]);
    expect(await page.textContent("tbody")).toContain('{"plan":"pro"}');
    expect((await api("GET", `/api/audiences/${audienceId}/count`)).count).toBe(3);
    await screenshot("audience");
  });

  it("creates an A/B campaign on it, with the server's field errors beside the fields", async () => {
    await page.click("text=New campaign to this audience");
    await expect.poll(heading, SETTLE).toBe("New campaign");
    expect(await page.locator("select[name=audienceId]").inputValue()).toBe(audienceId);
    await page.getByLabel("Name").fill("December news");
    await page.getByLabel("Split test (A/B)").check();
    // Variant A's email content without a subject: the API's 422 names variants.0.subject.
    await page.locator("[name='variants.0.content']").fill("Hello {{name}}, A");
    await page.locator("[name='variants.1.subject']").fill("News B");
    await page.locator("[name='variants.1.content']").fill("Hello {{name}}, B");
    await page.getByLabel("Test share (%)").fill("100");
    await page.click("text=Create campaign");
    const subjectA = page.locator("[name='variants.0.subject']");
    await expect.poll(() => subjectA.getAttribute("aria-invalid"), SETTLE).toBe("true");
    expect(await page.textContent(`#${await subjectA.getAttribute("id")}-error`)).toBe("email needs a subject");
    await subjectA.fill("News A");
    await page.click("text=Create campaign");
    await expect.poll(heading, SETTLE).toBe("December news");
    expect(await page.textContent(".facts .badge")).toBe("draft");
    expect(await page.textContent(".facts")).toContain("Newsletter (3 members)");
    expect(await seriousViolations()).toEqual([]);
  });

  it("sends it and follows the progress to every member delivered, with the A/B results", async () => {
    const id = decodeURIComponent(page.url().split("#/campaigns/")[1]!);
    await page.click("text=Send now");
    await expect.poll(() => page.textContent("#progress-summary"), SETTLE).toMatch(/^3 of 3 members processed · 3 delivered/);
    expect(await page.getAttribute("#progress-summary", "role")).toBe("status");
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("H1");
    const variants = await page.locator('[aria-label="Results by variant"] tbody td:first-child').allTextContents();
    expect(variants).toEqual(["A", "B"]);
    const stored = await api("GET", `/api/campaigns/${id}`);
    expect(stored.progress).toMatchObject({ targeted: 3, delivered: 3 });
    expect(stored.results.map((r: { targeted: number }) => r.targeted).reduce((a: number, b: number) => a + b)).toBe(3);
    expect(await page.textContent("#ab-outcome")).toMatch(/^No winner yet · metric opened/);
    // The test is still open (it runs for its duration): the operator decides it.
    await page.click("text=Pick B as the winner");
    await expect.poll(() => page.textContent("#ab-outcome"), SETTLE).toBe("Winner: B (picked by hand; metric opened)");
    expect((await api("GET", `/api/campaigns/${id}`)).abTest).toMatchObject({ winner: "B", pickedBy: "manual" });
    expect(await page.locator('[aria-label="Results by variant"] tbody td:first-child').allTextContents()).toEqual(["A", "B (winner)"]);
    await screenshot("campaign");
    await go("#/campaigns", "Campaigns");
    expect(await page.textContent("tbody tr")).toContain("December news");
    expect(await page.textContent("tbody tr")).toContain("Newsletter");
    expect(await seriousViolations()).toEqual([]);
  });

  it("creates a single-message campaign and cancels it before it is sent", async () => {
    await page.click("text=New campaign");
    await expect.poll(heading, SETTLE).toBe("New campaign");
    await page.click("text=Create campaign");
    // Name and audience are checked on the page, before any request.
    expect(await page.getAttribute("[name=name]", "aria-invalid")).toBe("true");
    expect(await page.getAttribute("[name=audienceId]", "aria-invalid")).toBe("true");
    await page.getByLabel("Name").fill("Flash sale");
    await page.getByLabel("Audience").selectOption({ label: "Newsletter" });
    await page.getByLabel("Subject (email)").fill("Flash sale");
    await page.getByLabel("Content").fill("Today only, {{name}}.");
    await page.click("text=Create campaign");
    await expect.poll(heading, SETTLE).toBe("Flash sale");
    const id = decodeURIComponent(page.url().split("#/campaigns/")[1]!);
    expect(await api("GET", `/api/campaigns/${id}`)).toMatchObject({ status: "draft", abTest: null, variants: [{ name: "A", subject: "Flash sale", content: "Today only, {{name}}." }] });
    await page.click("text=Cancel campaign");
    await expect.poll(() => page.textContent(".facts .badge"), SETTLE).toBe("cancelled");
    expect((await api("GET", `/api/campaigns/${id}`)).status).toBe("cancelled");
    expect(await page.isVisible("text=Send now")).toBe(false);
  });
});

describe("workflows and runs", () => {
  it("copies a ready-made workflow from a template", async () => {
    await go("#/workflows", "Workflows");
    expect(await seriousViolations()).toEqual([]);
    await page.click("text=Copy Invoice after a sale");
    await expect.poll(heading, SETTLE).toBe("Invoice after a sale");
    expect((await api("GET", "/api/workflows/invoice-after-sale")).steps.map((s: { type: string }) => s.type)).toEqual(["send", "escalate"]);
    // Copying it again under the same key is a conflict, said beside the key.
    await go("#/workflows", "Workflows");
    await page.click("text=Copy Invoice after a sale");
    await expect.poll(() => page.locator("[aria-label='Key for the copy of Invoice after a sale'] + .field-error").textContent(), SETTLE).toContain("exists");
  });

  it("builds a workflow in the step editor: the editor's checks first, then the API's field errors", async () => {
    await page.click("text=New workflow");
    await expect.poll(heading, SETTLE).toBe("New workflow");
    await page.getByLabel("Key", { exact: true }).fill("Welcome!");
    await page.getByLabel("Name", { exact: true }).fill("Welcome");
    await page.click("button:has-text('Add step to Steps')");
    await page.locator("[data-path='steps.0.id']").fill("hello");
    await page.locator("[data-path='steps.0.subject']").fill("Welcome {{name}}");
    await page.locator("[data-path='steps.0.content']").fill("Hello {{name}}, welcome aboard.");
    await page.getByLabel("Kind of step to add to Steps").selectOption("delay");
    await page.click("button:has-text('Add step to Steps')");
    await page.locator("[data-path='steps.1.id']").fill("pause");
    await page.locator("[data-path='steps.1.duration']").fill("2 hours");
    let requests = 0;
    page.on("request", (r) => r.url().endsWith("/api/workflows") && r.method() === "POST" && requests++);
    await page.click("text=Create workflow");
    // The editor names the bad duration itself, without asking the API.
    const duration = page.locator("[data-path='steps.1.duration']");
    await expect.poll(() => duration.getAttribute("aria-invalid"), SETTLE).toBe("true");
    expect(await page.textContent(`#${await duration.getAttribute("id")}-error`)).toContain("30s, 15m, 2h or 7d");
    expect(requests).toBe(0);
    await duration.fill("1s");
    await page.click("text=Create workflow");
    // The key's format is the API's to judge: its 422 lands beside the key field.
    const key = page.getByLabel("Key", { exact: true });
    await expect.poll(() => key.getAttribute("aria-invalid"), SETTLE).toBe("true");
    expect(await page.textContent(`#${await key.getAttribute("id")}-error`)).toContain("lowercase slug");
    expect(requests).toBe(1);
    expect(await page.textContent("#workflow-json")).toContain('"duration": "1s"');
    expect(await seriousViolations()).toEqual([]);
    await key.fill("welcome");
    await page.click("text=Create workflow");
    await expect.poll(heading, SETTLE).toBe("Welcome");
    expect(await api("GET", "/api/workflows/welcome")).toMatchObject({
      version: 1,
      steps: [
        { type: "send", id: "hello", channel: "email", subject: "Welcome {{name}}", content: "Hello {{name}}, welcome aboard." },
        { type: "delay", id: "pause", duration: "1s" },
      ],
    });
  });

  it("triggers a test run and shows its step timeline, linking the email it sent", async () => {
    await page.getByLabel("Recipient id").fill("ada");
    await page.getByLabel("Recipient email").fill("ada@example.com");
    await page.getByLabel("Data (JSON)").fill('{"name": "Ada"}');
    await page.click("text=Start a test run");
    await expect.poll(heading, SETTLE).toBe("Run for customer/ada");
    await expect.poll(() => page.textContent("#run-status .badge"), SETTLE).toBe("completed");
    const steps = await page.locator("#run-steps > li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-step")));
    expect(steps).toEqual(["hello", "pause"]);
    expect(await page.textContent("[data-step=pause] .outcome")).toBe("completed");
    expect(await page.textContent("[data-step=hello]")).toContain("Hello {{name}}");
    expect(await seriousViolations()).toEqual([]);
    await screenshot("workflow-run");
    await page.click("[data-step=hello] a[href^='#/communications/']");
    await expect.poll(heading, SETTLE).toBe("Welcome Ada");
    await page.goBack();
    await expect.poll(heading, SETTLE).toBe("Run for customer/ada");
  });

  it("publishes a new version, starts a run that waits on it and cancels it, then rolls back", async () => {
    await page.click("text=← welcome");
    await expect.poll(heading, SETTLE).toBe("Welcome");
    expect(await page.locator("[aria-label=Runs] tbody tr").count()).toBe(1);
    await page.locator("[data-path='steps.1.duration']").fill("1h");
    await page.click("text=Publish a new version");
    await expect.poll(() => page.textContent("#workflow-version"), SETTLE).toContain("active version v2");
    expect((await api("GET", "/api/workflows/welcome")).steps[1].duration).toBe("1h");
    await page.getByLabel("Recipient id").fill("ben");
    await page.getByLabel("Recipient email").fill("ben@example.com");
    await page.getByLabel("Cancellation key").fill("signup-ben");
    await page.click("text=Start a test run");
    await expect.poll(heading, SETTLE).toBe("Run for customer/ben");
    await expect.poll(() => page.textContent("#run-status .badge"), SETTLE).toBe("waiting");
    await page.click("text=Cancel runs with key signup-ben");
    await expect.poll(() => page.textContent("#run-status .badge"), SETTLE).toBe("cancelled");
    // The button went with the redraw; focus is on the page's heading, not lost to the body.
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("H1");
    const runId = decodeURIComponent(page.url().split("/runs/")[1]!);
    expect((await api("GET", `/api/workflows/runs/${runId}`)).status).toBe("cancelled");
    // A run without a cancellation key is cancelled on its own.
    await page.click("text=← welcome");
    await expect.poll(heading, SETTLE).toBe("Welcome");
    await page.getByLabel("Recipient id").fill("cy");
    await page.getByLabel("Recipient email").fill("cy@example.com");
    await page.getByLabel("Cancellation key").fill("");
    await page.click("text=Start a test run");
    await expect.poll(heading, SETTLE).toBe("Run for customer/cy");
    await expect.poll(() => page.textContent("#run-status .badge"), SETTLE).toBe("waiting");
    expect(await page.locator("button", { hasText: "Cancel runs with key" }).count()).toBe(0);
    await page.click("button:text-is('Cancel this run')");
    await expect.poll(() => page.textContent("#run-status .badge"), SETTLE).toBe("cancelled");
    expect(await page.locator("button:text-is('Cancel this run')").count()).toBe(0);
    expect(await page.textContent("dl.facts")).toContain("Cancelled becausecancelled by id");
    await page.click("text=← welcome");
    await expect.poll(heading, SETTLE).toBe("Welcome");
    await page.getByLabel("Run status").selectOption("cancelled");
    await page.click("text=Filter runs");
    await expect.poll(() => page.locator("[aria-label=Runs] tbody tr").count(), SETTLE).toBe(2);
    await page.click("text=Activate v1");
    await expect.poll(() => page.textContent("#workflow-version"), SETTLE).toContain("active version v1");
    expect((await api("GET", "/api/workflows/welcome")).version).toBe(1);
    await screenshot("workflow");
  });
});

describe("the step editor", () => {
  const at = (path: string) => page.locator(`[data-path='${path}']`);
  const addStep = async (list: string, kind: string) => {
    await page.getByLabel(`Kind of step to add to ${list}`, { exact: true }).selectOption(kind);
    await page.click(`button:text-is('Add step to ${list}')`);
  };

  it("writes all eight step kinds, nested ones too, as the API's definition", async () => {
    await go("#/workflows", "Workflows");
    await page.click("text=New workflow");
    await expect.poll(heading, SETTLE).toBe("New workflow");
    await page.getByLabel("Key", { exact: true }).fill("every-kind");
    await page.getByLabel("Name", { exact: true }).fill("Every kind");
    await page.getByLabel("Triggered by events").fill("invoice.created");

    await addStep("Steps", "send");
    await at("steps.0.id").fill("first");
    await at("steps.0.subject").fill("Your invoice");
    await at("steps.0.content").fill("Invoice {{number}}");
    await page.click("#list-steps button:text-is('Add condition')");
    await at("steps.0.when.0.field").fill("data.plan");
    await at("steps.0.when.0.value").fill("pro");

    await addStep("Steps", "throttle");
    await at("steps.1.id").fill("once-a-day");
    await at("steps.1.limit").fill("3");
    await at("steps.1.window").fill("1d");

    await addStep("Steps", "digest");
    await at("steps.2.id").fill("collect");
    await at("steps.2.key").fill("data.projectId");
    await at("steps.2.window").fill("1h");

    await addStep("Steps", "wait_for_event");
    await at("steps.3.id").fill("paid");
    await at("steps.3.event").fill("invoice.paid");
    await at("steps.3.timeout").fill("3d");
    await addStep("When the event comes", "send");
    await at("steps.3.onEvent.0.id").fill("thanks");
    await at("steps.3.onEvent.0.channel").selectOption("in_app");
    await at("steps.3.onEvent.0.content").fill("Thanks!");

    await addStep("Steps", "branch");
    await at("steps.4.id").fill("big");
    await at("steps.4.paths.0.when.0.field").fill("data.amount");
    await at("steps.4.paths.0.when.0.op").selectOption("gt");
    await at("steps.4.paths.0.when.0.value").fill("100");
    await addStep("Path 1 steps", "delay");
    await at("steps.4.paths.0.steps.0.id").fill("wait-a-bit");
    await at("steps.4.paths.0.steps.0.untilTimeOfDay").fill("09:00");
    await addStep("Otherwise", "start_reminder");
    const r = "steps.4.otherwise.0";
    await at(`${r}.id`).fill("dunning");
    await at(`${r}.name`).fill("dunning");
    await at(`${r}.entityField`).fill("data.invoiceId");
    await at(`${r}.templateCode`).fill("payment_reminder");
    await at(`${r}.channels`).fill("sms, email");
    await at(`${r}.every`).fill("3d");
    await at(`${r}.maxSteps`).fill("3");
    await at(`${r}.cancelOn`).fill("invoice.paid");

    // A step added by mistake, changed to another kind, then removed.
    await addStep("Steps", "delay");
    await at("steps.5.type").selectOption("escalate");
    await at("steps.5.id").fill("nudge");
    await at("steps.5.after").fill("first");
    await at("steps.5.within").fill("1d");
    await at("steps.5.send.id").fill("nudge-sms");
    await at("steps.5.send.channel").selectOption("sms");
    await at("steps.5.send.content").fill("Did you see our email?");
    await addStep("Steps", "delay");
    await page.locator("#list-steps > ol > li").last().getByRole("button", { name: /^Remove step / }).click();
    expect(await page.locator("#list-steps > ol > li").count()).toBe(6);

    await page.click("text=Create workflow");
    await expect.poll(heading, SETTLE).toBe("Every kind");
    const w = await api("GET", "/api/workflows/every-kind");
    expect(w.triggerEvents).toEqual(["invoice.created"]);
    expect(w.steps).toMatchObject([
      { type: "send", id: "first", channel: "email", subject: "Your invoice", content: "Invoice {{number}}", when: [{ field: "data.plan", op: "eq", value: "pro" }] },
      { type: "throttle", id: "once-a-day", limit: 3, window: "1d" },
      { type: "digest", id: "collect", key: "data.projectId", window: "1h" },
      { type: "wait_for_event", id: "paid", event: "invoice.paid", timeout: "3d", onEvent: [{ type: "send", id: "thanks", channel: "in_app", content: "Thanks!" }], onTimeout: [] },
      {
        type: "branch",
        id: "big",
        paths: [{ when: [{ field: "data.amount", op: "gt", value: 100 }], steps: [{ type: "delay", id: "wait-a-bit", untilTimeOfDay: "09:00" }] }],
        otherwise: [{ type: "start_reminder", id: "dunning", name: "dunning", entityField: "data.invoiceId", templateCode: "payment_reminder", channels: ["sms", "email"], every: "3d", maxSteps: 3, cancelOn: ["invoice.paid"] }],
      },
      { type: "escalate", id: "nudge", after: "first", within: "1d", unless: "opened", send: { type: "send", id: "nudge-sms", channel: "sms", content: "Did you see our email?" } },
    ]);
    // The saved workflow opens in the same editor, every field as it was stored.
    expect(await at("steps.4.otherwise.0.channels").inputValue()).toBe("sms, email");
    expect(await at("steps.4.paths.0.when.0.value").inputValue()).toBe("100");
    expect(await seriousViolations()).toEqual([]);
    // Nested three deep, the editor still fits a phone's width.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  it("places a nested step's API error beside that step's field", async () => {
    // A reminder template code that is not a slug is the API's to refuse, deep in the tree.
    await at("steps.4.otherwise.0.templateCode").fill("Payment Reminder");
    await page.click("text=Publish a new version");
    const code = at("steps.4.otherwise.0.templateCode");
    await expect.poll(() => code.getAttribute("aria-invalid"), SETTLE).toBe("true");
    expect(await page.textContent(`#${await code.getAttribute("id")}-error`)).toContain("lowercase slug");
    expect((await api("GET", "/api/workflows/every-kind")).version).toBe(1);
  });
});

describe("conversations", () => {
  const CUSTOMER = "+14155550123";
  const TWILIO_TOKEN = "twilio-auth-token";
  const APP_SECRET = "0123456789abcdef0123456789abcdef";
  const post = async (path: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${stack!.url}${path}`, { method: "POST", headers, body });
    expect(res.status, await res.text()).toBe(200);
  };
  let twilioPath: string;
  /** The customer's SMS, posted to the Twilio config's inbound URL as Twilio signs it. */
  const textIn = async (sid: string, text: string, extra: Record<string, string> = {}) => {
    const form = new URLSearchParams({ MessageSid: sid, From: CUSTOMER, To: "+14155550100", Body: text, ...extra });
    await post(twilioPath, form.toString(), { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": await twilioSignature(TWILIO_TOKEN, `${stack!.url}${twilioPath}`, form) });
  };

  it("shows an inbound SMS (signed by Twilio) as unread in the nav and the list", async () => {
    // Replies go out through the sandbox; Twilio (loopback only) is the number customers write to.
    await api("POST", "/api/providers", { channel: "sms", provider: "sandbox", priority: 1 });
    const twilio = await api("POST", "/api/providers", {
      channel: "sms",
      provider: "twilio",
      priority: 2,
      credentials: { accountSid: `AC${"0123456789abcdef".repeat(2)}`, authToken: TWILIO_TOKEN },
      settings: { from: "+14155550100", baseUrl: "http://127.0.0.1:9" },
    });
    twilioPath = `/webhooks/inbound/twilio/${twilio.id}`;
    await textIn("SM-console-1", "Can I pay next week?", { NumMedia: "1", MediaUrl0: "http://127.0.0.1:9/media/receipt.jpg", MediaContentType0: "image/jpeg" });
    // The badge follows page changes.
    await go("#/workflows", "Workflows");
    await expect.poll(() => page.textContent("#unread-badge"), SETTLE).toBe("1 unread");
    expect(await page.getAttribute("nav a[href='#/conversations']", "aria-current")).toBeNull();
    await go("#/conversations", "Conversations");
    await page.getByLabel("Unread only").check();
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.textContent("#conversation-count"), SETTLE).toBe("1 conversation");
    expect(page.url()).toContain("unread=true");
    expect(await page.textContent("tbody tr")).toContain("1 unread");
    await page.getByLabel("Channel").selectOption("whatsapp");
    await page.click("#view form.filters button[type=submit]");
    await expect.poll(() => page.textContent("#conversation-count"), SETTLE).toBe("0 conversations");
    await page.click("text=Clear");
    await expect.poll(() => page.textContent("#conversation-count"), SETTLE).toBe("1 conversation");
    expect(await seriousViolations()).toEqual([]);
  });

  it("opens the thread, which marks it read, and replies in it", async () => {
    await page.click(`tbody a:has-text('${CUSTOMER}')`);
    await expect.poll(heading, SETTLE).toBe(`Conversation with ${CUSTOMER}`);
    const [thread] = (await api("GET", "/api/conversations")).results;
    await expect.poll(async () => (await api("GET", `/api/conversations/${thread.id}`)).unreadCount, SETTLE).toBe(0);
    await expect.poll(() => page.isHidden("#unread-badge"), SETTLE).toBe(true);
    expect(await page.textContent("#messages [data-direction=inbound]")).toContain("Can I pay next week?");
    expect(await page.textContent("#messages [data-direction=inbound] .media")).toContain("image/jpeg");
    await page.getByLabel("Your reply").fill("Yes, until Friday.");
    await page.click("text=Send reply");
    await expect.poll(() => page.locator("#messages [data-direction=outbound]").textContent(), SETTLE).toContain("Yes, until Friday.");
    const { results } = await api("GET", `/api/conversations/${thread.id}/messages`);
    expect(results.map((m: { direction: string; text: string }) => [m.direction, m.text])).toEqual([["inbound", "Can I pay next week?"], ["outbound", "Yes, until Friday."]]);
    const reply = results[1].communicationId;
    await expect.poll(async () => (await api("GET", `/api/communications/${reply}`)).status, SETTLE).toBe("delivered");
    expect(await seriousViolations()).toEqual([]);
    // While the thread is open, the customer's next message appears in it and is read at once.
    await page.getByLabel("Your reply").fill("half-typed");
    await textIn("SM-console-2", "Thanks!");
    await expect.poll(() => page.locator("#messages [data-direction=inbound]").allTextContents(), SETTLE).toEqual([expect.stringContaining("Can I pay next week?"), expect.stringContaining("Thanks!")]);
    await expect.poll(async () => (await api("GET", `/api/conversations/${thread.id}`)).unreadCount, SETTLE).toBe(0);
    expect(await page.getByLabel("Your reply").inputValue()).toBe("half-typed");
    await page.getByLabel("Your reply").fill("");
    await screenshot("conversation");
    await page.click("text=Delivery of this reply");
    await expect.poll(() => page.textContent(".facts .badge"), SETTLE).toBe("delivered");
  });

  it("says a WhatsApp thread's 24-hour window is closed, and shows the API's refusal beside the template field", async () => {
    const meta = await api("POST", "/api/providers", {
      channel: "whatsapp",
      provider: "meta_whatsapp",
      credentials: { accessToken: "EAAG-test", appSecret: APP_SECRET },
      settings: { phoneNumberId: "106540352242922", baseUrl: "http://127.0.0.1:9" },
    });
    const twoDaysAgo = String(Math.floor(Date.now() / 1000) - 2 * 86400);
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ id: "1", changes: [{ field: "messages", value: {
        messaging_product: "whatsapp",
        metadata: { display_phone_number: "15550001234", phone_number_id: "106540352242922" },
        contacts: [{ profile: { name: "Ann" }, wa_id: "16315551181" }],
        messages: [{ from: "16315551181", id: "wamid.console", timestamp: twoDaysAgo, type: "text", text: { body: "Is my order on its way?" } }],
      } }] }],
    });
    await post(`/webhooks/inbound/meta_whatsapp/${meta.id}`, body, { "content-type": "application/json", "x-hub-signature-256": await hubSignature(APP_SECRET, body) });
    await go("#/conversations", "Conversations");
    await page.click("tbody a:has-text('+16315551181')");
    await expect.poll(heading, SETTLE).toBe("Conversation with +16315551181");
    expect(await page.textContent("#whatsapp-window")).toContain("24-hour window is closed");
    await page.getByLabel("Your reply").fill("Yes, tomorrow.");
    await page.click("text=Send reply");
    const template = page.getByLabel("Or a template (code)");
    await expect.poll(() => template.getAttribute("aria-invalid"), SETTLE).toBe("true");
    expect(await page.textContent(`#${await template.getAttribute("id")}-error`)).toBe("required outside WhatsApp's 24-hour window");
    expect(await page.textContent("#reply-form .form-error")).toContain("24-hour customer-service window");
    expect(await page.locator("#messages [data-direction=outbound]").count()).toBe(0);
    expect(await seriousViolations()).toEqual([]);
  });
});

describe("the journeys", () => {
  it("ran without a page error besides the ones the steps provoked", () => {
    const provoked = [
      /^422 .*\/api\/audiences\/[^/]+\/import$/, // the CSV row with a bad email
      /^422 .*\/api\/campaigns$/, // variant A without a subject
      /^409 .*\/api\/workflow-templates\/invoice-after-sale\/copy$/, // the second copy under the same key
      /^422 .*\/api\/workflows$/, // the key that is not a slug
      /^422 .*\/api\/workflows\/every-kind$/, // the reminder's template code that is not a slug
      /^422 .*\/api\/conversations\/[^/]+\/reply$/, // the WhatsApp reply outside the window
    ];
    for (const p of provoked) expect(pageErrors.some((e) => p.test(e)), String(p)).toBe(true);
    expect(pageErrors.filter((e) => !provoked.some((p) => p.test(e)))).toEqual([]);
  });
});
