/**
 * `<herald-inbox>` in a real headless Chromium, dropped into a host app's page on another origin
 * (a loopback server standing in for the tenant's app) with one script tag pointing at Herald,
 * against both Workers as in the bench. One recipient's session, step by step: live arrival and
 * the badge, the popover's keyboard handling, tabs, read/unread, mark all read, archive, snooze,
 * the action buttons (a URL, and an event that reaches the tenant's webhook), a second tab of the
 * same user staying in step, token refresh through the host's tokenProvider, the signed-out
 * state, and axe-core finding nothing serious.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintInboxToken } from "../../src/inbox/token";
import { axeSerious, call, chromiumSession, createSandboxTenant, SCREENSHOT_DIR, type Stack, watchPageErrors } from "./stack";

// The page's globals, inside page.evaluate (the type checker has no DOM library here).
declare const document: any, window: any, customElements: any;

/** A send crosses the local queue, which holds a partial batch for up to 1 s (max_batch_timeout). */
const ARRIVAL = { timeout: 8_000, interval: 50 };
// A 1×1 PNG for the avatars.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

let stack: Stack | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let app: Server | undefined;
let appUrl: string;
let apiKey: string;
let tenantId: string;
let endpointId: string;
let token: string;
const pageErrors: string[] = [];
/** What the tenant's webhook endpoint (served by the app server) received. */
const hooks: { type: string; data: Record<string, any> }[] = [];

const api = (method: string, path: string, body?: unknown) => call(stack!.url, apiKey, method, path, body);

/** The tenant's app: a page including the component from Herald, an avatar, a page an action opens, a webhook receiver. */
function startApp(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/avatar.png") return res.writeHead(200, { "content-type": "image/png" }).end(PNG);
    if (req.url === "/hook" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => (hooks.push(JSON.parse(body)), res.writeHead(204).end()));
      return;
    }
    if (req.url?.startsWith("/orders/")) return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>Order</title><h1>Order</h1>");
    res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme app</title>
<script type="module" src="${stack!.url}/inbox/herald-inbox.js"></script></head>
<body><header><h1>Acme</h1><herald-inbox id="inbox" base-url="${stack!.url}"><p slot="signed-out">Your session ended. <a href="/login">Sign in again</a></p></herald-inbox></header>
<main><p>Orders and invoices.</p></main></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function notify(subject: string, metadata?: Record<string, unknown>, type = "order") {
  const { id } = await api("POST", "/api/communications/send", { channel: "in_app", type, recipientType: "user", recipientId: "ada", subject, content: `${subject}, details inside.`, metadata });
  return id as string;
}

/** A page of the app with the inbox signed in as ada; the token provider hands out a fresh token. */
async function openApp(p: Page) {
  await p.goto(appUrl);
  await p.waitForFunction(() => customElements.get("herald-inbox"));
  await p.evaluate((t) => {
    const el = document.querySelector("herald-inbox")!;
    el.tokenProvider = () => (window as any).freshToken();
    el.token = t;
  }, token);
  await expect.poll(() => statusOf(p), ARRIVAL).toBe("open");
}

const statusOf = (p: Page) => p.getAttribute("herald-inbox", "status");
const badge = (p: Page = page) => p.locator("herald-inbox .badge").textContent({ timeout: 100 }).catch(() => null);
const titles = (p: Page = page) => p.locator("herald-inbox li .title").allTextContents();
const item = (subject: string, p: Page = page) => p.locator("herald-inbox li", { hasText: subject });
const commStatus = async (id: string) => (await api("GET", `/api/communications/${id}`)).status as string;

const session = chromiumSession({ vars: { ALLOW_LOOPBACK_URLS: "true" } });
const ids: Record<string, string> = {};

beforeAll(async () => {
  if (!session.ready()) return;
  ({ browser, stack } = session);
  app = await startApp();
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
  stack.allowOutbound(appUrl.replace(/\/$/, ""));
  ({ apiKey, tenantId } = await createSandboxTenant(stack.url, stack.adminToken, "browser herald-inbox"));
  ({ id: endpointId } = await api("POST", "/api/webhooks", { url: `${appUrl}hook`, eventTypes: ["inbox.action"] }));
  ({ token } = await api("POST", "/api/inbox/tokens", { recipientType: "user", recipientId: "ada" }));
  context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  await context.exposeBinding("freshToken", async () => (await api("POST", "/api/inbox/tokens", { recipientType: "user", recipientId: "ada" })).token);
  page = await context.newPage();
  watchPageErrors(page, pageErrors);
});

afterAll(async () => {
  await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
});

describe("<herald-inbox> in a host app, in Chromium", () => {
  it("loads from Herald with one script tag and connects: a bell, no badge", async () => {
    await openApp(page);
    expect(await badge()).toBeNull();
    expect(await page.getAttribute("herald-inbox .bell", "aria-label")).toBe("Notifications");
  });

  it("shows live items as they arrive: the badge counts them, a screen reader hears of them", async () => {
    ids.invoice = await notify("Invoice INV-42 is ready", { inbox: { avatarUrl: `${appUrl}avatar.png` } }, "billing");
    ids.order = await notify("Order 7 needs approval", { inbox: { actions: [{ label: "Approve", event: "order.approve" }, { label: "View order", url: `${appUrl}orders/7` }] }, data: { orderId: 7 } });
    await expect.poll(() => badge(), ARRIVAL).toBe("2");
    expect(await page.getAttribute("herald-inbox .bell", "aria-label")).toBe("Notifications, 2 unread");
    await expect.poll(() => page.locator("herald-inbox [aria-live=polite]").textContent(), ARRIVAL).toBe("New notification: Order 7 needs approval");
  });

  it("opens the popover with focus inside; Escape closes it and gives focus back to the bell", async () => {
    await page.click("herald-inbox .bell");
    await expect.poll(() => page.locator("herald-inbox [role=dialog]").isVisible()).toBe(true);
    await expect.poll(() => page.evaluate(() => document.querySelector("herald-inbox")!.shadowRoot!.activeElement?.getAttribute("role"))).toBe("tab");
    expect(await titles()).toEqual(["Order 7 needs approval", "Invoice INV-42 is ready"]);
    expect(await item("Invoice").locator("img.avatar").getAttribute("src")).toBe(`${appUrl}avatar.png`);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator("herald-inbox [role=dialog]").isVisible()).toBe(false);
    expect(await page.evaluate(() => document.querySelector("herald-inbox")!.shadowRoot!.activeElement?.className)).toBe("bell");
    await page.click("herald-inbox .bell");
  });

  it("marks an item read and unread again; the communication is opened", async () => {
    await item("Invoice").getByRole("button", { name: "Mark as read" }).click();
    await expect.poll(() => badge(), ARRIVAL).toBe("1");
    await expect.poll(() => commStatus(ids.invoice!), ARRIVAL).toBe("opened");
    await item("Invoice").getByRole("button", { name: "Mark as unread" }).click();
    await expect.poll(() => badge(), ARRIVAL).toBe("2");
  });

  it("filters by tab, with arrow keys too: unread, a category, then archived after an archive", async () => {
    await item("Invoice").getByRole("button", { name: "Mark as read" }).click();
    await page.getByRole("tab", { name: "Unread" }).click();
    await expect.poll(() => titles(), ARRIVAL).toEqual(["Order 7 needs approval"]);
    // A category (the send's type) named in `categories` gets a tab of its own.
    await page.evaluate(() => {
      const el = document.querySelector("herald-inbox")!;
      el.categoryLabels = { billing: "Billing" };
      el.setAttribute("categories", "billing");
    });
    await page.getByRole("tab", { name: "Billing" }).click();
    await expect.poll(() => titles(), ARRIVAL).toEqual(["Invoice INV-42 is ready"]);
    await page.getByRole("tab", { name: "All" }).click();
    await item("Invoice").getByRole("button", { name: "Archive" }).click();
    await expect.poll(() => titles(), ARRIVAL).toEqual(["Order 7 needs approval"]);
    // The archived item's row is gone; focus stays in the list instead of falling to the page.
    await expect.poll(() => page.evaluate(() => document.querySelector("herald-inbox")!.shadowRoot!.activeElement?.getAttribute("aria-label"))).toBe("Order 7 needs approval");
    await page.getByRole("tab", { name: "All" }).focus();
    await page.keyboard.press("End");
    expect(await page.getAttribute("herald-inbox", "tab")).toBe("archived");
    await expect.poll(() => titles(), ARRIVAL).toEqual(["Invoice INV-42 is ready"]);
    await item("Invoice").getByRole("button", { name: "Move to inbox" }).click();
    await expect.poll(() => titles(), ARRIVAL).toEqual([]);
    expect(await page.locator("herald-inbox .empty").textContent()).toBe("Nothing archived.");
    await page.getByRole("tab", { name: "Archived" }).focus();
    await page.keyboard.press("Home");
    expect(await page.getAttribute("herald-inbox", "tab")).toBe("all");
    await expect.poll(() => titles(), ARRIVAL).toHaveLength(2);
  });

  it("snoozes an item: hidden, then back unread when the time comes", async () => {
    await page.evaluate(() => {
      document.querySelector("herald-inbox")!.snoozeOptions = [{ label: "For 2 seconds", until: (now: Date) => new Date(now.getTime() + 2000) }];
    });
    await item("Invoice").getByRole("button", { name: "Snooze" }).click();
    await item("Invoice").getByRole("button", { name: "For 2 seconds" }).click();
    await expect.poll(() => titles(), ARRIVAL).toEqual(["Order 7 needs approval"]);
    expect(await badge()).toBe("1");
    await expect.poll(() => titles(), { timeout: 15_000, interval: 100 }).toEqual(["Order 7 needs approval", "Invoice INV-42 is ready"]);
    await expect.poll(() => badge(), ARRIVAL).toBe("2");
    expect(await item("Invoice").getAttribute("class")).toBe("unread");
  });

  it("keeps a second tab of the same user in step, there as a full-page feed", async () => {
    const second = await context.newPage();
    watchPageErrors(second, pageErrors);
    await openApp(second);
    await expect.poll(() => badge(second), ARRIVAL).toBe("2");
    // The second tab shows the full-page feed: no bell, the list inline.
    await second.evaluate(() => document.querySelector("herald-inbox")!.setAttribute("mode", "page"));
    await expect.poll(() => second.locator("herald-inbox .bell").count()).toBe(0);
    expect(await second.locator("herald-inbox [role=region]").isVisible()).toBe(true);
    await expect.poll(() => second.locator("herald-inbox li.unread").count(), ARRIVAL).toBe(2);
    await page.getByRole("button", { name: "Mark all as read" }).click();
    await expect.poll(() => badge(), ARRIVAL).toBeNull();
    await expect.poll(() => second.locator("herald-inbox li.unread").count(), ARRIVAL).toBe(0);
    for (const id of Object.values(ids)) await expect.poll(() => commStatus(id), ARRIVAL).toBe("opened");
    await second.close();
  });

  it("sends an event button back to the tenant's webhook as inbox.action, once", async () => {
    await item("Order 7").getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => item("Order 7").getByRole("button", { name: "Approve ✓" }).isDisabled(), ARRIVAL).toBe(true);
    await expect.poll(() => hooks.length, ARRIVAL).toBe(1);
    const log = (await api("GET", `/api/webhooks/${endpointId}/deliveries`)).results;
    expect(log).toEqual([expect.objectContaining({ eventType: "inbox.action", status: "succeeded", attempts: 1 })]);
    expect(hooks[0]).toMatchObject({ type: "inbox.action", data: { communicationId: ids.order, event: "order.approve", label: "Approve", recipientId: "ada", data: { orderId: 7 } } });
    await expect.poll(() => commStatus(ids.order!), ARRIVAL).toBe("clicked");
    // Pressed again (another device, a stale page): nothing changes, nothing is sent.
    expect((await call(stack!.url, token, "POST", "/api/inbox/items/act", { id: ids.order, action: 0 })).items).toEqual([]);
  });

  it("opens a URL button's page (unless the host app handles inbox-action itself)", async () => {
    const id = await notify("Order 8 shipped", { inbox: { actions: [{ label: "Track", url: `${appUrl}orders/8` }] } });
    await expect.poll(() => titles(), ARRIVAL).toContain("Order 8 shipped");
    const seen = page.evaluate(() => new Promise((resolve) => document.addEventListener("inbox-action", (e: any) => resolve(e.detail.action), { once: true })));
    const [popup] = await Promise.all([context.waitForEvent("page"), item("Order 8").getByRole("button", { name: "Track" }).click()]);
    expect(await seen).toEqual({ label: "Track", url: `${appUrl}orders/8` });
    await popup.waitForLoadState();
    expect(popup.url()).toBe(`${appUrl}orders/8`);
    await popup.close();
    await expect.poll(() => commStatus(id), ARRIVAL).toBe("clicked");
  });

  it("finds no serious or critical accessibility problem (axe-core), popover open", async () => {
    expect((await axeSerious(page, "herald-inbox")).findings).toEqual([]);
    await page.screenshot({ path: `${SCREENSHOT_DIR}herald-inbox.png` });
  });

  it("asks the host's tokenProvider for a new token when the current one has expired, and reconnects", async () => {
    // A token for ada that ran out an hour ago, signed with the stack's key (the API mints only live ones).
    const { ENCRYPTION_KEY } = (await (stack as unknown as { mf: { getBindings(): Promise<Record<string, string>> } }).mf.getBindings());
    const { token: expired } = await mintInboxToken(ENCRYPTION_KEY!, { tenantId, recipientType: "user", recipientId: "ada" }, 60, new Date(Date.now() - 3600_000));
    const calls = await page.evaluate(async (t) => {
      const el = document.querySelector("herald-inbox")!;
      let n = 0;
      el.tokenProvider = () => (n++, (window as any).freshToken());
      el.token = t;
      await new Promise<void>((resolve) => el.addEventListener("inbox-status", (e: any) => e.detail.status === "open" && resolve()));
      return n;
    }, expired);
    expect(calls).toBe(1);
    expect(await statusOf(page)).toBe("open");
    await expect.poll(() => titles(), ARRIVAL).toContain("Order 8 shipped");
  });

  it("shows the signed-out slot, not endless reconnecting, when no new token comes", async () => {
    await page.evaluate(() => {
      const el = document.querySelector("herald-inbox")!;
      el.tokenProvider = async () => {
        throw new Error("session ended");
      };
      el.token = "expired.or.revoked";
    });
    await expect.poll(() => statusOf(page), ARRIVAL).toBe("signed-out");
    expect(await page.getByText("Your session ended.").isVisible()).toBe(true);
    expect(await badge()).toBeNull();
  });

  it("ran without a page error or a Worker error", () => {
    expect(pageErrors).toEqual([]);
    expect(stack!.workerErrors).toEqual([]);
  });
});
