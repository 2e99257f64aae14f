/**
 * One bench phase on its own stack (`npx node bench/<phase>.mjs …`): builds and starts both
 * Workers (bench/stack.mjs), measures, prints, and exits 1 on what the phase or the Workers report
 * as failed. The stack is closed on every path.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { workerdCpuClock } from "./cpu.mjs";
import { startStack } from "./stack.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** True when the module at `url` is the script node was started with. */
export const isMain = (url) => url === `file://${process.argv[1]}`;

export async function runAlone(measure, print, failuresOf) {
  let stack;
  try {
    await startStack(ROOT, (s) => (stack = s), { assets: false });
    const result = await measure(stack, workerdCpuClock());
    print(result);
    const failures = [...failuresOf(result), ...stack.workerErrors.slice(0, 5).map((l) => `a Worker logged: ${l.slice(0, 300)}`)];
    for (const f of failures) console.error(`FAIL: ${f}`);
    process.exitCode = failures.length ? 1 : 0;
  } finally {
    await stack?.close();
  }
}
