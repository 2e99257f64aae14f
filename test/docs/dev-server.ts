/**
 * Global setup of the `docs` test project: `npm start` (scripts/dev.mjs) exactly as a user runs
 * it, on a free PORT and with `--persist-to` a temp dir, so it neither collides with a developer's
 * own `npm start` on 8787 nor touches their local database or dev tenant. The tests get its URL,
 * the dev tenant's key, the admin token and everything it printed up to the banner.
 *
 * One stack for the project: the front-door checks and the docs check share it (wrangler dev
 * takes 20–60 s to start on a busy machine).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export type DevServer = { url: string; port: number; apiKey: string; tenantId: string; adminToken: string; output: string };

declare module "vitest" {
  export interface ProvidedContext {
    devServer: DevServer;
  }
}

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const STARTUP_MS = 200_000;

let child: ChildProcess | undefined;
let dir: string | undefined;

export async function setup(project: TestProject) {
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), "herald-docs-"));
  // The npm script, as a user runs it; its own process group, so teardown stops wrangler too.
  child = spawn("npm", ["start", "--silent", "--", "--persist-to", dir], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<string>((resolve) => child!.once("exit", (code, signal) => resolve(`npm start exited (${signal ?? code})`)));
  const started = Date.now();
  let failure: string | undefined;
  exited.then((why) => (failure = why));
  while (!/^\s*Shell\s+export HERALD=/m.test(output)) {
    if (failure) throw new Error(`${failure} before its banner:\n${output}`);
    if (Date.now() - started > STARTUP_MS) throw new Error(`npm start printed no banner within ${STARTUP_MS / 1000} s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const saved = JSON.parse(readFileSync(join(dir, "herald-dev-tenant.json"), "utf8")) as { tenantId: string; apiKey: string };
  project.provide("devServer", {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey: saved.apiKey,
    tenantId: saved.tenantId,
    adminToken: devVar("ADMIN_TOKEN"),
    output,
  });
}

export async function teardown() {
  if (child?.pid && child.exitCode === null) {
    const gone = new Promise((r) => child!.once("exit", r));
    signal(child.pid, "SIGTERM");
    const timer = setTimeout(() => signal(child!.pid!, "SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  }
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(-pid, name);
  } catch {
    // already gone
  }
}

/** What dev.mjs reads: .dev.vars, which it creates from the example when missing. */
function devVar(name: string): string {
  const line = readFileSync(join(ROOT, ".dev.vars"), "utf8")
    .split(/\r?\n/)
    .find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`${name} is not in .dev.vars`);
  return line.slice(name.length + 1).trim().replace(/^(["'])(.*)\1$/, "$2");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once("error", reject)
      .listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
  });
}
