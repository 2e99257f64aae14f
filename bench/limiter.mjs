/**
 * What the tenant limiter's check costs a request: p50/p99 with and without it. A tiny probe
 * Worker, bench-only and served on its own socket beside the API, answers `GET /noop` at once and
 * `GET /take` after one `takeApi(1)` on a tenant limiter object (the class the API Worker exports,
 * reached by `script_name` like the delivery Worker does), i.e. exactly the step the /api
 * middleware adds. The object's bucket is set far above the load, so every take is admitted and
 * written through; both targets run in interleaved rounds with the same connections.
 *
 * The real routes carry the check too (POST /api/communications/send also counts the quota), but
 * there is nothing to compare them with: the limiter is not optional in the API Worker.
 */
import { fmt, median, table } from "./format.mjs";
import { hit } from "./load.mjs";

const PROBE = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/noop") return new Response("ok");
    const limiter = env.LIMITER.getByName("bench-probe");
    if (url.pathname === "/configure") return Response.json(await limiter.configure(await request.json()));
    if (url.pathname === "/take") {
      const allowance = await limiter.takeApi(1);
      return new Response(allowance.ok ? "ok" : "limited", { status: allowance.ok ? 200 : 429 });
    }
    return new Response("not found", { status: 404 });
  },
};`;

export const PROBE_NAME = "bench-probe";

/** Miniflare (v4 option shape) for the probe, bound to `className` in the Worker `scriptName`. */
export function probeWorker({ scriptName, className, useSQLite, compatibilityDate }) {
  return {
    name: PROBE_NAME,
    modules: true,
    script: PROBE,
    compatibilityDate,
    durableObjects: { LIMITER: { className, scriptName, useSQLite } },
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  };
}

/**
 * Interleaved rounds of both targets after a short warm-up of each. `cpu` is the workerd CPU
 * clock (bench/cpu.mjs) or undefined.
 */
export async function measureLimiter(probeUrl, { rounds, seconds, connections, cpu }) {
  const configured = await fetch(`${probeUrl}/configure`, {
    method: "POST",
    body: JSON.stringify({ rateLimit: { perSecond: 100_000, burst: 1_000_000 } }),
  });
  if (!configured.ok) throw new Error(`configuring the probe's limiter answered ${configured.status}`);
  const targets = { noop: `${probeUrl}/noop`, take: `${probeUrl}/take` };
  const run = async (name, s) => {
    const before = cpu?.();
    const r = await hit({ url: targets[name], expect: 200, connections, seconds: s });
    return { ...r, cpuMs: cpu ? cpu() - before : undefined };
  };
  await run("noop", 1);
  await run("take", 1);
  const results = [];
  for (let n = 0; n < rounds; n++) {
    const round = {};
    for (const name of n % 2 ? ["take", "noop"] : ["noop", "take"]) {
      process.stdout.write(`limiter round ${n + 1}: ${name}… `);
      round[name] = await run(name, seconds);
      console.log(`${fmt(round[name].rps)} req/s`);
    }
    results.push(round);
  }
  return results;
}

export function printLimiter(results) {
  const cpuPer = (x) => (x.cpuMs === undefined ? NaN : x.cpuMs / x.completed);
  const med = (name, f) => median(results.map((r) => f(r[name])));
  const row = (name, label) => [label, fmt(med(name, (x) => x.rps)), fmt(med(name, (x) => x.p50), 1), fmt(med(name, (x) => x.p99), 1), fmt(med(name, cpuPer), 3)];
  console.log(`\nLimiter check (probe Worker beside the API), median of ${results.length} round${results.length === 1 ? "" : "s"}`);
  console.log(
    table(
      ["target", "req/s", "p50 ms", "p99 ms", "workerd CPU ms/req"],
      [row("noop", "without the limiter (GET /noop)"), row("take", "with the limiter (GET /take: one takeApi)")],
    ),
  );
  console.log(
    `the check adds ${fmt(med("take", (x) => x.p50) - med("noop", (x) => x.p50), 1)} ms at p50, ` +
      `${fmt(med("take", (x) => x.p99) - med("noop", (x) => x.p99), 1)} ms at p99 and ` +
      `${fmt(med("take", cpuPer) - med("noop", cpuPer), 3)} ms of workerd CPU per request`,
  );
}

/** Requests that did not answer 200 (a 429 would mean the bucket was too small for the load). */
export const limiterFailures = (results) =>
  results.flatMap((r, n) =>
    ["noop", "take"]
      .filter((name) => r[name].unexpected + r[name].socketErrors > 0)
      .map((name) => `limiter round ${n + 1} ${name}: status counts ${JSON.stringify(r[name].counts)}, ${r[name].socketErrors} socket errors`),
  );
