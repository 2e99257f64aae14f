/**
 * The bench's stack (bench/stack.mjs: both Workers built by `wrangler deploy --dry-run` and served
 * by one Miniflare on 127.0.0.1) and its tenant helper (bench/api.mjs), typed for the browser
 * tests. They are plain ES modules without declarations, so they are loaded by URL: the type
 * checker does not follow a computed specifier, and the shapes below are the parts the tests use.
 */
/// <reference types="vitest/importMeta" />
import { readFile } from "node:fs/promises";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach } from "vitest";
export type Stack = {
  url: string;
  adminToken: string;
  /** Errors and warnings the Workers logged, kept rather than printed. */
  workerErrors: string[];
  /** Lets the Workers reach a local server (an http://127.0.0.1:<port> origin); nothing else is reachable. */
  allowOutbound(origin: string): void;
  close(): Promise<void>;
};

type StackModule = { startStack(root: string, onCreated?: (stack: Stack) => void, options?: { assets?: boolean; vars?: Record<string, string> }): Promise<Stack> };
type ApiModule = {
  createSandboxTenant(url: string, adminToken: string, name: string): Promise<{ tenantId: string; apiKey: string }>;
  /** One API call with a bearer token; throws with the status and body on anything but 2xx. */
  call(url: string, token: string, method: string, path: string, body?: unknown): Promise<any>;
};

const bench = (file: string) => new URL(`../../bench/${file}`, import.meta.url).href;

/** The repository root, which startStack builds from. */
export const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/**
 * Where the tests' screenshots go: test-results/screenshots (ignored), so `npm test` leaves the
 * tree as it was. `npm run screenshots` sets SCREENSHOTS_DIR=docs to refresh the docs' pictures.
 */
export const SCREENSHOT_DIR = `${ROOT}${process.env.SCREENSHOTS_DIR ?? "test-results/screenshots"}`.replace(/\/?$/, "/");

export const { startStack } = (await import(bench("stack.mjs"))) as StackModule;
export const { createSandboxTenant, call } = (await import(bench("api.mjs"))) as ApiModule;

const CHROMIUM = "/usr/bin/chromium";

/** Debian's Chromium, or the reason it cannot start (each test then fails naming what is missing). */
export async function launchChromium(): Promise<{ browser: Browser } | { missing: Error }> {
  try {
    return { browser: await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }) };
  } catch (error) {
    return { missing: new Error(`cannot start ${CHROMIUM}; the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it in CI): ${(error as Error).message}`) };
  }
}

/**
 * Collects what a page reports as wrong into `errors`: failed responses, console errors and
 * uncaught exceptions. A failed request shows both as a response and as a console error without
 * its URL ("Failed to load resource"); only the former is kept.
 */
export function watchPageErrors(page: Page, errors: string[]) {
  page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
}

export type Session = { browser: Browser; stack: Stack };

/**
 * The hooks every browser test file needs, registered once: Chromium and the stack started before
 * the file's tests (register the file's own beforeAll after this call; it runs after, and should
 * return early when `ready()` is false), both closed after them. Without Chromium each test fails
 * naming what is missing instead of the file crashing.
 */
export function chromiumSession(options?: Parameters<StackModule["startStack"]>[2]): Session & { ready(): boolean } {
  let missing: Error | undefined;
  const session = { ready: () => !missing && !!session.stack } as Session & { ready(): boolean };
  beforeAll(async () => {
    const launched = await launchChromium();
    if ("missing" in launched) {
      missing = launched.missing;
      return;
    }
    session.browser = launched.browser;
    session.stack = await startStack(ROOT, undefined, options);
  });
  beforeEach(() => {
    if (missing) throw missing;
  });
  afterAll(async () => {
    await session.browser?.close();
    await session.stack?.close();
  });
  return session;
}

const AXE_SOURCE = `${ROOT}node_modules/axe-core/axe.min.js`;

/**
 * axe-core on the page as it is now: its serious and critical violations, described (rule, impact,
 * help and targets), and how many rules passed (a run that checked nothing would pass anything).
 * axe goes in by evaluation: the DevTools protocol is not bound by the page's CSP, which forbids
 * an injected <script> on the console.
 */
export async function axeSerious(page: Page, where = page.url()): Promise<{ findings: string[]; passes: number }> {
  if ((await page.evaluate("typeof window.axe")) === "undefined") await page.evaluate(await readFile(AXE_SOURCE, "utf8"));
  const { passes, serious } = (await page.evaluate(`axe.run(document).then((r) => ({
    passes: r.passes.length,
    serious: r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => v.id + " (" + v.impact + ") " + v.help + " at " + v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(", ")),
  }))`)) as { passes: number; serious: string[] };
  return { findings: serious.map((s) => `${where}: ${s}`), passes };
}
