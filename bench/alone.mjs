/**
 * One bench phase on its own (`node bench/campaign.mjs`, `node bench/workflows.mjs`): build and
 * serve both Workers, measure, print, and exit 1 on what the phase or a Worker reported.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startStack } from "./stack.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** True when `moduleUrl` (import.meta.url) is the script node was started with. */
export const isMain = (moduleUrl) => Boolean(process.argv[1]) && resolve(process.argv[1]) === fileURLToPath(moduleUrl);

/** @param {(stack) => Promise<{ failures: string[] }>} measure @param {(result) => void} print */
export async function runAlone(measure, print) {
  let stack;
  let code = 0;
  try {
    console.log("building both Workers and starting Miniflare…");
    stack = await startStack(ROOT, (s) => (stack = s), { assets: false });
    const r = await measure(stack);
    print(r);
    const failures = [...r.failures, ...stack.workerErrors.slice(0, 5).map((e) => `a Worker logged: ${e.slice(0, 300)}`)];
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
