#!/usr/bin/env node
/**
 * `npm run deploy`: puts Herald on your Cloudflare account (log in first with `npx wrangler login`).
 * Every step can be re-run safely:
 *
 * 1. creates the D1 database `herald`, every queue the two configs name (`herald-sends`,
 *    `herald-priority-sends`, `herald-bulk-sends`, `herald-sends-dlq`, …) and every R2 bucket they name (`herald-attachments`) unless they exist;
 * 2. writes the database's real id into wrangler.toml and workers/delivery/wrangler.toml;
 * 3. applies the migrations to the remote database;
 * 4. sets the secrets a Worker is missing (ADMIN_TOKEN on the API Worker, ENCRYPTION_KEY on both)
 *    from environment variables of the same name. A secret that is already set is never
 *    overwritten: a new ENCRYPTION_KEY would make stored provider credentials unreadable. When
 *    ENCRYPTION_KEY is missing (or set on one Worker only) the deploy stops and says what to do;
 * 5. deploys both Workers. PUBLIC_URL, when set, replaces the local default in both.
 *
 * `--dry-run` prints the commands instead of running them and changes no file.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wranglerBin = join(root, "node_modules/wrangler/bin/wrangler.js");
const dryRun = process.argv.includes("--dry-run");
const unknown = process.argv.slice(2).filter((a) => a !== "--dry-run");
if (unknown.length) fail(`unknown argument(s): ${unknown.join(" ")}. Usage: npm run deploy [-- --dry-run]`);
if (Number(process.versions.node.split(".")[0]) < 22) fail(`Node ${process.versions.node} is too old for wrangler; use \`npm run deploy\`, which runs the project's Node 24.`);
if (!existsSync(wranglerBin)) fail("wrangler is not installed; run `npm install` first.");

const DATABASE = "herald";
const WORKERS = [
  { name: "herald-api", config: "wrangler.toml", secrets: ["ADMIN_TOKEN", "ENCRYPTION_KEY"] },
  // The delivery Worker opens provider credentials but never serves the admin API.
  { name: "herald-delivery", config: "workers/delivery/wrangler.toml", secrets: ["ENCRYPTION_KEY"] },
];

if (dryRun) log("dry run: printing the commands, running none of them, changing no file\n");

// 1. Resources.
let databaseId = findDatabaseId();
if (!databaseId) {
  wrangler(["d1", "create", DATABASE], { shown: "(only if it does not exist yet)" });
  databaseId = findDatabaseId();
  if (!databaseId && !dryRun) fail(`created D1 database "${DATABASE}" but cannot find its id in \`wrangler d1 list\``);
}
for (const queue of queueNames()) {
  if (!wrangler(["queues", "info", queue], { allowFailure: true, quiet: true })?.ok) wrangler(["queues", "create", queue], { shown: "(only if it does not exist yet)" });
}
for (const bucket of bucketNames()) {
  if (!wrangler(["r2", "bucket", "info", bucket], { allowFailure: true, quiet: true })?.ok) wrangler(["r2", "bucket", "create", bucket], { shown: "(only if it does not exist yet)" });
}

// 2. The database id, in both configs.
for (const { config } of WORKERS) setDatabaseId(config, databaseId ?? "<id of herald from wrangler d1 list>");

// 3. Schema.
wrangler(["d1", "migrations", "apply", DATABASE, "--remote"]);

// 4. Secrets. A secret shared by both Workers is set from the environment only while neither has
// it: we cannot read the value one of them already holds, and two different keys would break.
const existing = new Map(WORKERS.map((w) => [w.name, secretNames(w)]));
const unset = [];
for (const secret of ["ENCRYPTION_KEY", "ADMIN_TOKEN"]) {
  const holders = WORKERS.filter((w) => w.secrets.includes(secret));
  const missing = holders.filter((w) => !existing.get(w.name)?.has(secret));
  if (missing.length === 0) continue;
  const value = process.env[secret];
  if (dryRun || (value && missing.length === holders.length)) {
    for (const w of missing) {
      wrangler(["secret", "put", secret, "-c", w.config], { input: value, shown: `(only if ${w.name} has no ${secret}; value from $${secret})` });
    }
  } else unset.push({ secret, workers: missing, partly: missing.length < holders.length });
}
for (const { secret, workers, partly } of unset) {
  const names = workers.map((w) => w.name).join(" and ");
  if (partly) {
    log(`${secret} is not set on ${names}. Give it the same value the other Worker has:`);
    for (const w of workers) log(`  npx wrangler secret put ${secret} -c ${w.config}`);
  } else if (secret === "ADMIN_TOKEN") {
    log("warning: ADMIN_TOKEN is not set, so the admin API stays disabled. Set it with: ADMIN_TOKEN=... npm run deploy");
  } else {
    log(`${secret} is not set on ${names}. Generate it once, keep a copy somewhere safe, and run:`);
    log('  export ENCRYPTION_KEY="$(openssl rand -base64 32)"');
    log('  export ADMIN_TOKEN="$(openssl rand -hex 32)"');
    log("  npm run deploy");
  }
}
// Without the key the Workers answer every request with a configuration error.
if (unset.some((u) => u.secret === "ENCRYPTION_KEY")) fail("stopping before the deploy: ENCRYPTION_KEY is missing");

// 5. Code.
const vars = process.env.PUBLIC_URL ? ["--var", `PUBLIC_URL:${process.env.PUBLIC_URL}`] : [];
for (const { config } of WORKERS) wrangler(["deploy", "-c", config, ...vars]);
if (!process.env.PUBLIC_URL) log("note: PUBLIC_URL is the local default. Set PUBLIC_URL=https://… on every deploy (or in both wrangler.toml files) so webhookUrl points at the deployed API.");
log(dryRun ? "dry run complete" : "deployed");

/** Runs wrangler (or, in a dry run, prints the command). Returns { ok, stdout } when it ran. */
function wrangler(args, { capture = false, allowFailure = false, quiet = false, input, shown } = {}) {
  const printed = ["npx", "wrangler", ...args.map((a) => (/^[\w./:@=-]+$/.test(a) ? a : `'${a}'`))].join(" ");
  console.log(`$ ${printed}${shown ? `   ${shown}` : ""}`);
  if (dryRun) return undefined;
  const result = spawnSync(process.execPath, [wranglerBin, ...args], {
    cwd: root,
    input: input ?? "",
    encoding: "utf8",
    // stdin is never a terminal, so wrangler confirms its own prompts with their safe defaults.
    stdio: ["pipe", capture ? "pipe" : "inherit", quiet ? "pipe" : "inherit"],
  });
  const ok = result.status === 0;
  if (!ok && !allowFailure) fail(`\`${printed}\` failed${result.stdout?.trim() ? `:\n${result.stdout}` : " (see above)"}`);
  return { ok, stdout: result.stdout ?? "" };
}

function findDatabaseId() {
  const listed = wrangler(["d1", "list", "--json"], { capture: true });
  if (!listed) return undefined;
  const databases = JSON.parse(listed.stdout.slice(listed.stdout.indexOf("[")));
  return databases.find((d) => d.name === DATABASE)?.uuid;
}

/** Every queue the configs produce to, consume or dead-letter into, so a queue added there is created too. */
function queueNames() {
  const names = new Set();
  for (const { config } of WORKERS) {
    const text = readFileSync(join(root, config), "utf8");
    for (const [, name] of text.matchAll(/^\s*(?:queue|dead_letter_queue)\s*=\s*"([^"]+)"/gm)) names.add(name);
  }
  return [...names];
}

/** Every R2 bucket the configs bind. */
function bucketNames() {
  const names = new Set();
  for (const { config } of WORKERS) {
    const text = readFileSync(join(root, config), "utf8");
    for (const [, name] of text.matchAll(/^\s*bucket_name\s*=\s*"([^"]+)"/gm)) names.add(name);
  }
  return [...names];
}

/** The names of the secrets a Worker has; none if it has never been deployed. */
function secretNames({ config }) {
  const listed = wrangler(["secret", "list", "-c", config, "--format", "json"], { capture: true, allowFailure: true, quiet: true });
  if (!listed?.ok) return new Set();
  return new Set(JSON.parse(listed.stdout.slice(listed.stdout.indexOf("["))).map((s) => s.name));
}

function setDatabaseId(config, id) {
  const file = join(root, config);
  const text = readFileSync(file, "utf8");
  const pattern = new RegExp(`(database_name\\s*=\\s*"${DATABASE}"\\s*\\n\\s*database_id\\s*=\\s*)"[^"]*"`);
  if (!pattern.test(text)) fail(`${config}: no database_id line right after database_name = "${DATABASE}"`);
  const updated = text.replace(pattern, `$1"${id}"`);
  if (dryRun) log(`would set database_id = "${id}" in ${config}`);
  else if (updated !== text) {
    writeFileSync(file, updated);
    log(`set database_id = "${id}" in ${config}`);
  }
}

function log(message) {
  console.log(`[deploy] ${message}`);
}

function fail(message) {
  console.error(`[deploy] ${message}`);
  process.exit(1);
}
