/**
 * One bench phase on its own stack (`node bench/<phase>.mjs …`, e.g. inbox, inbound, campaign,
 * workflows): builds and starts both Workers (bench/stack.mjs), measures, prints, and exits 1 on
 * what the phase or the Workers report as failed. The stack is closed on every path.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { workerdCpuClock } from "./cpu.mjs";
import { startStack } from "./stack.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** True when `moduleUrl` (import.meta.url) is the script node was started with. */
export const isMain = (moduleUrl) => Boolean(process.argv[1]) && resolve(process.argv[1]) === fileURLToPath(moduleUrl);

/**
 * @param {(stack, cpu) => Promise<object>} measure gets the stack and a workerd CPU clock
 * @param {(result) => void} print
 * @param {(result) => string[]} failuresOf what the phase counts as failed (default: `result.failures`)
 */
export async function runAlone(measure, print, failuresOf = (r) => r.failures ?? []) {
  let stack;
  let code = 0;
  try {
    console.log("building both Workers and starting Miniflare…");
    stack = await startStack(ROOT, (s) => (stack = s), { assets: false });
    const result = await measure(stack, workerdCpuClock());
    print(result);
    const failures = [...failuresOf(result), ...stack.workerErrors.slice(0, 5).map((l) => `a Worker logged: ${l.slice(0, 300)}`)];
    for (const f of failures) console.error(`FAIL: ${f}`);
    code = failures.length ? 1 : 0;
  } catch (error) {
    console.error(`FAIL: ${error?.stack ?? error}`);
    code = 1;
  } finally {
    await stack?.close();
    process.exit(code);
  }
}
