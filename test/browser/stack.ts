/**
 * The bench's stack (bench/stack.mjs: both Workers built by `wrangler deploy --dry-run` and served
 * by one Miniflare on 127.0.0.1) and its tenant helper (bench/api.mjs), typed for the browser
 * tests. They are plain ES modules without declarations, so they are loaded by URL: the type
 * checker does not follow a computed specifier, and the shapes below are the parts the tests use.
 */
/// <reference types="vitest/importMeta" />
export type Stack = {
  url: string;
  adminToken: string;
  /** Errors and warnings the Workers logged, kept rather than printed. */
  workerErrors: string[];
  close(): Promise<void>;
};

type StackModule = { startStack(root: string, onCreated?: (stack: Stack) => void): Promise<Stack> };
type ApiModule = { createSandboxTenant(url: string, adminToken: string, name: string): Promise<{ tenantId: string; apiKey: string }> };

const bench = (file: string) => new URL(`../../bench/${file}`, import.meta.url).href;

/** The repository root, which startStack builds from. */
export const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

export const { startStack } = (await import(bench("stack.mjs"))) as StackModule;
export const { createSandboxTenant } = (await import(bench("api.mjs"))) as ApiModule;
