/**
 * The bench's stack (bench/stack.mjs: both Workers built by `wrangler deploy --dry-run` and served
 * by one Miniflare on 127.0.0.1) and its tenant helper (bench/api.mjs), typed for the browser
 * tests. They are plain ES modules without declarations, so they are loaded by URL: the type
 * checker does not follow a computed specifier, and the shapes below are the parts the tests use.
 */
/// <reference types="vitest/importMeta" />
import { chromium, type Browser, type Page } from "playwright-core";
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
