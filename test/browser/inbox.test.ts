/**
 * The in-app inbox demo page (`/inbox/demo?token=…`) in a real headless Chromium, against both
 * Workers built and served as in the bench: sends go through the API, the queue and the delivery
 * Worker into the recipient's inbox object, and reach the page over its WebSocket. The steps run
 * in order as one recipient's session on one page; each says what the recipient sees.
 */
import type { Browser, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { call, chromiumSession, createSandboxTenant, SCREENSHOT_DIR, type Stack, watchPageErrors } from "./stack";

/** test-results/ under `npm test`; docs/ under `npm run screenshots` (test/browser/stack.ts). */
const SCREENSHOT = `${SCREENSHOT_DIR}inbox-demo.png`;
/** A send crosses the local queue, which holds a partial batch for up to 1 s (max_batch_timeout). */
const ARRIVAL = { timeout: 5_000, interval: 50 };

let stack: Stack | undefined;
let browser: Browser | undefined;
let page: Page;
let apiKey: string;
let token: string;
/** The page's failed requests, console errors and uncaught exceptions: the demo must run without any. */
const pageErrors: string[] = [];
const sent: { id: string; subject: string }[] = [];

const api = (method: string, path: string, body?: unknown, bearer = apiKey) => call(stack!.url, bearer, method, path, body);

async function notify(subject: string, content: string) {
  const { id } = await api("POST", "/api/communications/send", { channel: "in_app", recipientType: "user", recipientId: "ada", subject, content });
  sent.push({ id, subject });
  return id as string;
}

const statusOf = async (id: string) => (await api("GET", `/api/communications/${id}`)).status as string;
const badge = () => page.textContent("#unread");
const listed = () => page.$$eval("#items li", (lis) => lis.map((li) => ({ text: li.textContent ?? "", unread: li.classList.contains("unread") })));
const itemFor = (subject: string) => page.locator("#items li", { hasText: subject });

/** Why Chromium could not start: reported by every test, which fails (a failing beforeAll only skips them). */
const session = chromiumSession();

beforeAll(async () => {
  if (!session.ready()) return;
  ({ browser, stack } = session);
  ({ apiKey } = await createSandboxTenant(stack.url, stack.adminToken, "browser inbox demo"));
  ({ token } = await api("POST", "/api/inbox/tokens", { recipientType: "user", recipientId: "ada" }));
  page = await browser.newPage({ viewport: { width: 720, height: 480 } });
  watchPageErrors(page, pageErrors);
});

describe("the inbox demo page in Chromium", () => {
  it("connects with a recipient token and shows an empty inbox", async () => {
    await page.goto(`${stack!.url}/inbox/demo?token=${encodeURIComponent(token)}`);
    await expect.poll(() => page.textContent("#status"), ARRIVAL).toBe("open");
    expect(await badge()).toBe("0");
    expect(await listed()).toEqual([]);
  });

  it("shows sends live as they are delivered, with the unread count", async () => {
    await notify("Invoice INV-42 is ready", "120.00 EUR, due on 23 December.");
    await notify("Ben commented on your order", "“Can we move the delivery to Friday?”");
    await expect.poll(listed, ARRIVAL).toHaveLength(2);
    await expect.poll(badge, ARRIVAL).toBe("2");
    const items = await listed();
    for (const { subject } of sent) expect(items.find((i) => i.text.includes(subject))).toMatchObject({ unread: true });
    for (const { id } of sent) expect(await statusOf(id)).toBe("delivered");
  });

  it("marks one item read: the count drops and the communication is opened", async () => {
    const [first, second] = sent;
    await itemFor(first!.subject).getByRole("button", { name: "mark read" }).click();
    await expect.poll(badge, ARRIVAL).toBe("1");
    await expect.poll(() => itemFor(first!.subject).getAttribute("class"), ARRIVAL).toBe("");
    expect(await itemFor(second!.subject).getAttribute("class")).toBe("unread");
    await expect.poll(() => statusOf(first!.id), ARRIVAL).toBe("opened");
    expect(await statusOf(second!.id)).toBe("delivered");
  });

  it("resumes after a reload with the same items and count, none repeated", async () => {
    const before = await listed();
    await page.reload();
    await expect.poll(() => page.textContent("#status"), ARRIVAL).toBe("open");
    await expect.poll(listed, ARRIVAL).toEqual(before);
    expect(await badge()).toBe("1");
    await page.screenshot({ path: SCREENSHOT });
  });

  it("marks all read", async () => {
    await page.click("#all");
    await expect.poll(badge, ARRIVAL).toBe("0");
    expect((await listed()).map((i) => i.unread)).toEqual([false, false]);
    for (const { id } of sent) await expect.poll(() => statusOf(id), ARRIVAL).toBe("opened");
  });

  it("ran without a page error or a Worker error", () => {
    expect(pageErrors).toEqual([]);
    expect(stack!.workerErrors).toEqual([]);
  });
});
