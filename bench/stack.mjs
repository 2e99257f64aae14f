/**
 * The system under test: both Workers bundled by `wrangler deploy --dry-run` (the code a deploy
 * would upload), served by one Miniflare instance on 127.0.0.1 with the shared D1 database
 * persisted in a temp dir and the send queue wired from both producers to the delivery consumer.
 * Bindings are read from the two wrangler configs, so the bench follows them; a binding kind this
 * file does not map stops the run instead of being silently left out. Cron triggers are not wired
 * to a clock: the sweep has nothing to do in a run where every message is delivered, and a bench
 * that needs it (bench/soak.mjs) calls `stack.fireCron()` itself.
 *
 * Miniflare is driven directly rather than through `wrangler dev`, whose proxy layer caps local
 * throughput at a few hundred requests per second (docs/benchmarks.md).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readD1Migrations } from "@cloudflare/vitest-plugin";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { PROBE_NAME, probeWorker } from "./limiter.mjs";

/** The API Worker comes first: it is the one Miniflare serves on its URL. */
const CONFIGS = ["wrangler.toml", "workers/delivery/wrangler.toml"];

/** Config keys naming bindings this file does not wire up (checked only when non-empty). */
const UNMAPPED = ["kv_namespaces", "services", "hyperdrive", "analytics_engine_datasets"];

/**
 * Builds and starts everything. `onCreated` receives the stack as soon as its temp dir exists, so
 * that an interrupt during the build can still clean up; the caller must `close()` it (dispose
 * Miniflare, remove the temp dir), which startStack does itself when a step fails.
 *
 * `assets: false` leaves the console's static assets out. Miniflare serves a Worker that has
 * assets behind its own asset router, one more hop on every request, which production does not
 * have with `run_worker_first` (the edge calls the Worker directly); measured here it halved
 * GET /health throughput and cost sends about a quarter. The load benches leave the assets out;
 * the browser tests, which use the console, keep them.
 *
 * `vars` replace the configs' [vars] for this run (e.g. a short SWEEP_STALE_SECONDS for the soak).
 * PUBLIC_URL defaults to the stack's own URL, as under `npm start`, so the webhook URLs, tracking
 * links and OpenAPI `servers` it hands out point at it; the port is therefore chosen before
 * Miniflare starts.
 */
export async function startStack(root, onCreated = () => {}, { assets = true, vars = {} } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "herald-bench-"));
  const stack = { dir, mf: undefined, url: undefined, db: undefined, adminToken: "", workerErrors: [], builder: undefined };
  /** Lets the Workers reach a local mock provider (an http://127.0.0.1:<port> origin). */
  stack.allowOutbound = (origin) => {
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) throw new Error(`only local mock providers may be reached, not ${origin}`);
    allowed.add(origin);
  };
  // The last resort when the process exits without close() (an uncaught error, another signal
  // handler calling process.exit): synchronous, so it cannot wait for anything.
  const onExit = () => {
    signalGroup(stack.builder, "SIGKILL");
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  };
  process.on("exit", onExit);
  // Idempotent: a signal and a failing step may both ask for it.
  let closing;
  stack.close = () => (closing ??= close(stack).finally(() => process.off("exit", onExit)));
  onCreated(stack);
  try {
    const configs = CONFIGS.map((c) => unstable_readConfig({ config: resolve(root, c) }));
    configs.forEach(assertMapped);
    const sqliteClasses = sqliteDurableObjects(configs);
    // Builds run one after the other: in parallel they only fight over the two cores.
    const bundles = [];
    for (const config of configs) bundles.push(await build(stack, root, config, join(dir, "out", config.name)));

    stack.adminToken = randomBytes(24).toString("base64url");
    const secrets = {
      ...(await devSecrets(root)),
      ADMIN_TOKEN: stack.adminToken,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    };
    const options = (port) =>
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port,
        cf: false, // the default fetches a Request.cf sample from the internet
        resourcePersistencePath: join(dir, "persist"),
        log: new Log(LogLevel.NONE),
        logRequests: false,
        unsafeObservability: false,
        unsafeLocalExplorer: false,
        telemetry: { enabled: false },
        // Worker console output is kept, not printed: errors are reported after the run.
        handleStructuredLogs: (log) => {
          if (log.level === "error" || log.level === "warn") stack.workerErrors.push(log.message);
        },
        workers: [...configs.map((config, i) => workerOptions(config, bundles[i], { ...vars, ...secrets }, sqliteClasses, assets)), limiterProbe(configs[0], sqliteClasses)],
      });
    const serve = async (port) => {
      stack.mf = new Miniflare(options(port));
      stack.url = (await stack.mf.ready).href.replace(/\/$/, "");
      stack.probeUrl = (await stack.mf.unsafeGetDirectURL(PROBE_NAME)).href.replace(/\/$/, "");
      stack.db = await stack.mf.getD1Database("DB", configs[0].name);
    };
    const port = await freePort();
    vars = { PUBLIC_URL: `http://127.0.0.1:${port}`, ...vars };
    await serve(port);
    await applyMigrations(stack.db, configs[0]);
    /**
     * Kills workerd (Miniflare's dispose sends SIGKILL: a crash, not a drain) and serves the same
     * bundles again on the same port over the same persisted D1, R2 and Durable Object state.
     * Miniflare keeps queues in memory, so every message on them is gone, as after a queue that
     * lost its backlog: only the sweep can find that work again.
     */
    stack.restart = async () => {
      const port = Number(new URL(stack.url).port);
      await stack.mf.dispose();
      stack.mf = undefined;
      await serve(port);
    };
    /** Runs the API Worker's scheduled handler once, as the `* * * * *` cron trigger would. */
    stack.fireCron = async () => {
      const api = await stack.mf.getWorker(configs[0].name);
      return api.scheduled({ cron: configs[0].triggers?.crons?.[0] ?? "* * * * *", scheduledTime: new Date() });
    };
    return stack;
  } catch (error) {
    await stack.close();
    throw error;
  }
}

/** A port nothing listens on now; Miniflare binds it a moment later. */
function freePort() {
  return new Promise((done, fail) => {
    const server = createServer()
      .once("error", fail)
      .listen(0, "127.0.0.1", () => {
        const { port } = server.address();
        server.close(() => done(port));
      });
  });
}

async function close(stack) {
  try {
    await stopBuilder(stack.builder);
    await stack.mf?.dispose();
  } finally {
    // Retries cover files workerd was still writing while it shut down.
    await rm(stack.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/** Stops an unfinished build (npx, wrangler, esbuild: one process group) so it cannot write on. */
async function stopBuilder(child) {
  if (!signalGroup(child, "SIGTERM")) return;
  for (let waited = 0; waited < 5000; waited += 50) {
    await sleep(50);
    if (!signalGroup(child, 0)) return;
  }
  signalGroup(child, "SIGKILL");
}

/** Signals the child's process group; false when nothing in it is left. */
function signalGroup(child, signal) {
  if (!child?.pid) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

function assertMapped(config) {
  for (const key of UNMAPPED) {
    const value = key.split(".").reduce((v, k) => v?.[k], config);
    if (Array.isArray(value) ? value.length : value && Object.keys(value).length) {
      throw new Error(`${config.configPath}: bench/stack.mjs does not wire "${key}" bindings yet; add them to workerOptions()`);
    }
  }
}

/**
 * The local secrets every developer has (.dev.vars.example), so a secret added there reaches the
 * bench too; the admin token and the encryption key are replaced by fresh random ones per run.
 */
async function devSecrets(root) {
  const text = await readFile(join(root, ".dev.vars.example"), "utf8").catch(() => "");
  return Object.fromEntries(
    text
      .split("\n")
      .map((line) => /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line))
      .filter(Boolean)
      .map(([, key, value]) => [key, value.replace(/^(["'])(.*)\1$/, "$2")]),
  );
}

/**
 * `wrangler deploy --dry-run` into an absolute dir (a relative one lands beside the config). The
 * build runs in its own process group (spawn's `detached`; execFile drops that option), so an
 * interrupted bench can stop npx, wrangler and esbuild together.
 */
async function build(stack, root, config, outdir) {
  const args = ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "-c", config.configPath];
  const child = spawn("npx", args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  stack.builder = child;
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const [code, signal] = await new Promise((done, fail) => {
    child.once("error", fail);
    child.once("close", (...result) => done(result));
  });
  stack.builder = undefined;
  if (code !== 0) throw new Error(`build of ${config.name} failed (npx ${args.join(" ")}: ${signal ?? `exit ${code}`}):\n${output}`);
  return join(outdir, "index.js");
}

/**
 * "worker:Class" for every Durable Object class declared SQLite-backed in its own Worker's
 * migrations; a binding from another Worker (script_name) must say the same, or Miniflare refuses.
 */
function sqliteDurableObjects(configs) {
  return new Set(configs.flatMap((c) => (c.migrations ?? []).flatMap((m) => (m.new_sqlite_classes ?? []).map((cls) => `${c.name}:${cls}`))));
}

/** The bench-only Worker that times the tenant limiter's check (bench/limiter.mjs), bound to the API's class. */
function limiterProbe(api, sqliteClasses) {
  const binding = (api.durable_objects?.bindings ?? []).find((d) => d.name === "LIMITER");
  if (!binding) throw new Error(`${api.configPath}: no LIMITER Durable Object binding for the limiter probe`);
  return probeWorker({
    scriptName: api.name,
    className: binding.class_name,
    useSQLite: sqliteClasses.has(`${api.name}:${binding.class_name}`),
    compatibilityDate: api.compatibility_date,
  });
}

/**
 * Origins the Workers may call: local mock providers only (stack.allowOutbound). One set for the
 * process: a bench serves one stack at a time.
 */
const allowed = new Set();

/** Miniflare (v4 option shape) for one Worker, from its wrangler config. */
function workerOptions(config, scriptPath, overrides, sqliteClasses, withAssets) {
  return {
    name: config.name,
    modules: true,
    scriptPath,
    // Module names are relative to this root; the default (cwd) would make them "../../tmp/…".
    modulesRoot: dirname(scriptPath),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    // `overrides`: the bench's own vars and the secrets, over the config's [vars].
    bindings: { ...config.vars, ...overrides },
    d1Databases: Object.fromEntries((config.d1_databases ?? []).map((d) => [d.binding, d.database_id])),
    durableObjects: Object.fromEntries(
      (config.durable_objects?.bindings ?? []).map((d) => {
        const scriptName = d.script_name ?? config.name;
        return [d.name, { className: d.class_name, scriptName, useSQLite: sqliteClasses.has(`${scriptName}:${d.class_name}`) }];
      }),
    ),
    // Workflow runs (src/workflows/engine.ts): the delivery Worker reaches the API Worker's by script_name.
    workflows: Object.fromEntries(
      (config.workflows ?? []).map((w) => [w.binding, { name: w.name, className: w.class_name, scriptName: w.script_name ?? config.name }]),
    ),
    // Both Workers name the same bucket, so they share its (in-memory) objects.
    r2Buckets: Object.fromEntries((config.r2_buckets ?? []).map((b) => [b.binding, b.bucket_name])),
    assets: withAssets ? assetsOptions(config) : undefined,
    queueProducers: Object.fromEntries((config.queues?.producers ?? []).map((p) => [p.binding, p.queue])),
    queueConsumers: Object.fromEntries(
      (config.queues?.consumers ?? []).map((c) => [
        c.queue,
        {
          maxBatchSize: c.max_batch_size,
          maxBatchTimeout: c.max_batch_timeout,
          maxRetries: c.max_retries,
          deadLetterQueue: c.dead_letter_queue,
          retryDelay: c.retry_delay,
        },
      ]),
    ),
    // No network, except to the local mock providers a bench registered (bench/mock-provider.mjs);
    // anything else that tries is answered, not sent.
    outboundService: async (request) => {
      if (!allowed.has(new URL(request.url).origin)) return new Response("herald bench: outbound network is disabled", { status: 599 });
      // Miniflare's Request is its own undici's: rebuilt for Node's fetch.
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
      // Framing headers are Node's to set: undici refuses a copied Content-Length ("invalid content-length header").
      const headers = new Headers(request.headers);
      for (const name of ["content-length", "host", "transfer-encoding"]) headers.delete(name);
      return fetch(request.url, { method: request.method, headers, body, signal: request.signal });
    },
  };
}

/**
 * Static assets as `wrangler dev` configures them (the router in front of the Worker, the binding
 * it calls). Only a boolean run_worker_first is mapped: pattern lists would need wrangler's
 * static-routing parser, and a half-mapped router would serve the wrong thing silently.
 */
function assetsOptions(config) {
  const a = config.assets;
  if (!a) return undefined;
  if (a.run_worker_first !== undefined && typeof a.run_worker_first !== "boolean") {
    throw new Error(`${config.configPath}: bench/stack.mjs maps only a boolean assets.run_worker_first`);
  }
  return {
    directory: resolve(dirname(config.configPath), a.directory),
    binding: a.binding,
    routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: a.run_worker_first ?? false },
    assetConfig: { html_handling: a.html_handling, not_found_handling: a.not_found_handling },
  };
}

/** The same parsing the tests use (readD1Migrations), each file applied as one D1 batch. */
async function applyMigrations(db, config) {
  const [d1] = config.d1_databases;
  const migrations = await readD1Migrations(resolve(dirname(config.configPath), d1.migrations_dir ?? "migrations"));
  if (migrations.length === 0) throw new Error("no SQL migrations found");
  for (const m of migrations) await db.batch(m.queries.map((q) => db.prepare(q)));
}
