#!/usr/bin/env node
/**
 * `npm start` / `npm run dev`: the whole local stack in one command.
 *
 * 1. Copies .dev.vars.example to .dev.vars when it is missing, and mirrors .dev.vars to
 *    workers/delivery/.dev.vars (wrangler reads secrets from beside each config, and the delivery
 *    Worker needs the same ENCRYPTION_KEY to open provider credentials).
 * 2. Applies the D1 migrations to the local database and prints one line per database (wrangler's
 *    own tables run to hundreds of lines); when wrangler fails, everything it printed is shown.
 * 3. Runs both Workers in one `wrangler dev` process, so they share the local D1 and the queue.
 * 4. Once GET /health answers, makes sure a dev tenant with sandbox providers on every channel
 *    exists (saved in .wrangler/herald-dev-tenant.json, reused while the API still knows it) and
 *    prints its API key with a sample curl.
 * 5. Runs the cron passes every LOCAL_CRON_SECONDS (.dev.vars, default 15; 0 turns it off):
 *    wrangler dev runs no cron triggers, and the sweep is what recovers the sends a restart or a
 *    hot reload dropped from the in-memory queue (docs/reliability.md).
 * 6. Passes Ctrl-C / SIGTERM on to wrangler and exits with its exit code.
 *
 * PORT overrides the port (default 8787). If the port is taken it stops at once, so it never sets up
 * its tenant on some other server. PUBLIC_URL (webhookUrl, tracking and unsubscribe links, the
 * OpenAPI `servers`) follows the port: http://127.0.0.1:<PORT>, unless .dev.vars sets PUBLIC_URL
 * (a tunnel, say). wrangler applies `--var` to the first config only, so the delivery Worker gets it
 * through its mirrored .dev.vars.
 *
 * `--persist-to <dir>` keeps the local D1, queues and Durable Objects, and the dev tenant file, in
 * <dir> instead of .wrangler/: a second, throwaway stack beside the usual one (the docs check runs
 * the README against one).
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { constants } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const base = `http://127.0.0.1:${port}`;
const wranglerBin = join(root, "node_modules/wrangler/bin/wrangler.js");
const persistTo = optionValue("--persist-to");
const persistArgs = persistTo ? ["--persist-to", resolve(persistTo)] : [];
const tenantFile = persistTo ? join(resolve(persistTo), "herald-dev-tenant.json") : join(root, ".wrangler/herald-dev-tenant.json");
/** Every channel that needs a provider config (in_app needs none): the dev tenant gets a sandbox on each. */
const CHANNELS = ["email", "sms", "whatsapp", "messenger", "push", "slack", "teams", "discord", "telegram"];

const log = (message) => console.log(`[herald] ${message}`);
const fail = (message) => {
  console.error(`[herald] ${message}`);
  process.exit(1);
};

if (Number(process.versions.node.split(".")[0]) < 22) fail(`Node ${process.versions.node} is too old for wrangler; run \`npm start\`, which uses the project's Node 24.`);
if (!existsSync(wranglerBin)) fail("wrangler is not installed; run `npm install` first.");
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`PORT must be a port number, not "${process.env.PORT}".`);

// A server already answering on the port would get our dev tenant instead of this one.
if (!(await portIsFree(port))) fail(`port ${port} is already in use; stop what is using it or set PORT.`);

// 1. Local secrets.
if (!existsSync(join(root, ".dev.vars"))) {
  copyFileSync(join(root, ".dev.vars.example"), join(root, ".dev.vars"));
  log("created .dev.vars from .dev.vars.example");
}
addMissingDevVars();
const publicUrl = readDevVar("PUBLIC_URL") || base;
const devVars = readFileSync(join(root, ".dev.vars"), "utf8").replace(/\n?$/, "\n");
writeFileSync(
  join(root, "workers/delivery/.dev.vars"),
  readDevVar("PUBLIC_URL") ? devVars : `${devVars}# set by scripts/dev.mjs from PORT\nPUBLIC_URL=${publicUrl}\n`,
);
const adminToken = readDevVar("ADMIN_TOKEN");
if (!adminToken) fail("ADMIN_TOKEN is not set in .dev.vars");

// 2. Migrations, one line per database. With stdin not a terminal, wrangler applies them without asking.
// Both Workers share the one database, so there is one to migrate.
const migrate = spawnSync(process.execPath, [wranglerBin, "d1", "migrations", "apply", "herald", "--local", ...persistArgs], {
  cwd: root,
  encoding: "utf8",
  stdio: ["ignore", "pipe", "pipe"],
});
if (migrate.status !== 0) {
  process.stdout.write(migrate.stdout ?? "");
  process.stderr.write(migrate.stderr ?? "");
  fail(`applying the local D1 migrations failed (wrangler exited with ${migrate.status ?? migrate.signal}, output above)`);
}
log(migrationSummary("herald", migrate.stdout, join(root, "migrations")));

// 3. Both Workers in one process.
const wrangler = spawn(
  process.execPath,
  [
    wranglerBin, "dev", "-c", "wrangler.toml", "-c", "workers/delivery/wrangler.toml",
    "--ip", "127.0.0.1", "--port", String(port), "--var", `PUBLIC_URL:${publicUrl}`, ...persistArgs,
  ],
  { cwd: root, stdio: "inherit" },
);
let exited = false;
wrangler.on("exit", (code, signal) => {
  exited = true;
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));

// 4. The dev tenant.
try {
  await waitForHealth();
  const tenant = (await reuseTenant()) ?? (await createTenant());
  await addMissingSandboxes(tenant.apiKey);
  banner(tenant);
} catch (error) {
  if (!exited) console.error(`[herald] dev tenant setup failed: ${error.message} (the servers keep running)`);
}

// 5. The local cron.
const cronSeconds = Number(readDevVar("LOCAL_CRON_SECONDS") ?? 15);
if (Number.isFinite(cronSeconds) && cronSeconds > 0) {
  let warned = false;
  const timer = setInterval(async () => {
    const res = await fetch(`${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`).catch((error) => ({ ok: false, status: error.message }));
    if (!res.ok && !warned && !exited) {
      warned = true;
      console.error(`[herald] the local cron trigger failed (${res.status}); trigger it by hand, see docs/reliability.md`);
    }
  }, cronSeconds * 1000);
  timer.unref();
  log(`running the cron passes every ${cronSeconds} s (LOCAL_CRON_SECONDS in .dev.vars)`);
}

/**
 * Settings added to .dev.vars.example since this .dev.vars was created (ALLOW_LOOPBACK_URLS,
 * SWEEP_STALE_SECONDS…) are appended with their example values; what the developer set stays.
 */
function addMissingDevVars() {
  const keyOf = (line) => /^\s*([A-Z0-9_]+)\s*=/.exec(line)?.[1];
  const path = join(root, ".dev.vars");
  const current = readFileSync(path, "utf8");
  const have = new Set(current.split(/\r?\n/).map(keyOf).filter(Boolean));
  const missing = readFileSync(join(root, ".dev.vars.example"), "utf8")
    .split(/\r?\n/)
    .filter((line) => keyOf(line) && !have.has(keyOf(line)));
  if (missing.length === 0) return;
  writeFileSync(path, `${current.replace(/\n?$/, "\n")}${missing.join("\n")}\n`);
  log(`added ${missing.map(keyOf).join(", ")} to .dev.vars from .dev.vars.example`);
}

/** "D1 herald: 18 migrations applied (3 new)", from wrangler's table of what it just applied. */
function migrationSummary(database, output, dir) {
  const total = readdirSync(dir).filter((f) => f.endsWith(".sql")).length;
  const applied = [...output.matchAll(/│\s*\S+\.sql\s*│\s*✅/g)].length;
  return `D1 ${database}: ${total} migrations applied (${applied === 0 ? "none" : applied} new)`;
}

/** The value after `name` in the command line (`npm start -- --persist-to /tmp/x`), or `name=value`. */
function optionValue(name) {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const value = args[i].includes("=") ? args[i].slice(name.length + 1) : args[i + 1];
  if (!value) fail(`${name} needs a directory`);
  return value;
}

function readDevVar(name) {
  const line = readFileSync(join(root, ".dev.vars"), "utf8")
    .split(/\r?\n/)
    .find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).trim().replace(/^(["'])(.*)\1$/, "$2");
}

function portIsFree(p) {
  return new Promise((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .once("listening", () => server.close(() => resolve(true)))
      .listen(p, "127.0.0.1");
  });
}

async function waitForHealth(timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (!exited && Date.now() < deadline) {
    const res = await fetch(`${base}/health`).catch(() => undefined);
    if (res?.ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(exited ? "wrangler exited" : `${base}/health did not answer within ${timeoutMs / 1000} s`);
}

async function call(method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => undefined);
  return { status: res.status, json };
}

async function expectStatus(status, request) {
  const res = await request;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json;
}

/** The saved tenant, if the local database still has it; a revoked key is replaced. */
async function reuseTenant() {
  if (!existsSync(tenantFile)) return undefined;
  const saved = JSON.parse(readFileSync(tenantFile, "utf8"));
  const found = await call("GET", `/admin/tenants/${encodeURIComponent(saved.tenantId)}`, adminToken);
  if (found.status === 404) return undefined;
  if (found.status !== 200) throw new Error(`GET /admin/tenants/${saved.tenantId} answered ${found.status}: ${JSON.stringify(found.json)}`);
  if ((await call("GET", "/api/providers", saved.apiKey)).status === 401) {
    const key = await expectStatus(201, call("POST", `/admin/tenants/${saved.tenantId}/api-keys`, adminToken, { name: "dev" }));
    return save({ tenantId: saved.tenantId, apiKey: key.apiKey });
  }
  return saved;
}

async function createTenant() {
  const created = await expectStatus(201, call("POST", "/admin/tenants", adminToken, { name: "Herald dev" }));
  log(`created dev tenant ${created.tenant.id}`);
  return save({ tenantId: created.tenant.id, apiKey: created.apiKey });
}

/** A sandbox provider on each channel that has no provider yet (a tenant saved before a channel existed gets it too). */
async function addMissingSandboxes(apiKey) {
  const configured = new Set((await expectStatus(200, call("GET", "/api/providers", apiKey))).results.map((p) => p.channel));
  const missing = CHANNELS.filter((channel) => !configured.has(channel));
  for (const channel of missing) {
    await expectStatus(201, call("POST", "/api/providers", apiKey, { channel, provider: "sandbox", priority: 1 }));
  }
  if (missing.length) log(`sandbox providers added for ${missing.join(", ")}`);
}

function save(tenant) {
  mkdirSync(dirname(tenantFile), { recursive: true });
  writeFileSync(tenantFile, `${JSON.stringify(tenant, null, 2)}\n`, { mode: 0o600 });
  return tenant;
}

function banner({ tenantId, apiKey }) {
  console.log(`
  Herald is running on ${base}${publicUrl === base ? "" : ` (PUBLIC_URL ${publicUrl})`}
  Dev tenant ${tenantId} (saved in ${persistTo ? tenantFile : relative(root, tenantFile)})
  API key    ${apiKey}
  Console    ${base}/console/ (sign in with the API key)
  Shell      export HERALD=${base} KEY=${apiKey}

  Try it:
    curl -s ${base}/api/communications/send \\
      -H "Authorization: Bearer ${apiKey}" -H "Content-Type: application/json" \\
      -d '{"channel":"email","recipientContact":"ada@example.com","subject":"Hello","content":"Hi from Herald"}'
    curl -s "${base}/api/communications" -H "Authorization: Bearer ${apiKey}"
`);
}
