/**
 * CPU time used by the workerd process Miniflare spawned, read from Linux's /proc. workerd runs
 * both Workers, the local D1 and the queue broker on what is essentially one thread, so CPU
 * milliseconds per request explain the throughput better than req/s alone, and they are less
 * sensitive to whatever else the machine is running. Elsewhere than Linux this reports nothing.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Fields of /proc/<pid>/stat after the "(comm)" field, which may itself contain spaces. */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const close = text.lastIndexOf(")");
  return { comm: text.slice(text.indexOf("(") + 1, close), rest: text.slice(close + 2).split(" ") };
}

/** Returns a function giving workerd's user+system CPU in ms so far, or undefined if unavailable. */
export function workerdCpuClock() {
  if (process.platform !== "linux") return undefined;
  let ticksPerSecond;
  try {
    ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    ticksPerSecond = 100;
  }
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  const pid = pids.find((p) => {
    try {
      const { comm, rest } = statFields(p);
      return comm === "workerd" && Number(rest[1]) === process.pid; // rest[1] is the parent pid
    } catch {
      return false; // the process exited while we looked
    }
  });
  if (!pid) return undefined;
  return () => {
    const { rest } = statFields(pid);
    // utime and stime are fields 14 and 15 of the stat line, i.e. rest[11] and rest[12].
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / ticksPerSecond;
  };
}

/**
 * Waits until workerd has been nearly idle (under 5 % of a core) for two 250 ms samples in a row,
 * or `maxMs` passed: work a target set off (status events, queued follow-ups) is then finished
 * before the next target starts and counted with the one that caused it.
 */
export async function settle(cpu, maxMs = 5000) {
  if (!cpu) return;
  const started = performance.now();
  let last = { at: started, used: cpu() };
  let quiet = 0;
  while (quiet < 2 && performance.now() - started < maxMs) {
    await sleep(250);
    const now = { at: performance.now(), used: cpu() };
    quiet = (now.used - last.used) / (now.at - last.at) < 0.05 ? quiet + 1 : 0;
    last = now;
  }
}
