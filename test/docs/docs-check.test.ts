/**
 * The docs check: every shell block in README.md and docs/*.md is either run here against
 * `npm start` (test/docs/dev-server.ts) or marked with the reason it cannot be, so a command in
 * the docs cannot drift from what Herald does. An unmarked block fails the check.
 *
 * The run blocks of one document go, in order, through one bash (`set -eo pipefail`, so any
 * command that fails stops it), with the variables a reader has after pasting the banner's
 * `export HERALD=… KEY=…` line. The documents speak of http://127.0.0.1:8787 and the example admin
 * token; both are replaced by the test stack's. After each block, every field of the response the
 * document shows (the keys of the ```json block after it, or of its `# {…}` comment lines) must
 * appear in what the block printed, and no problem+json may, unless the block is marked as
 * showing one.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { shellBlocks, type ShellBlock } from "./blocks";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const dev = inject("devServer");
const DOCUMENTS = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const blocksOf = (doc: string) => shellBlocks(doc, readFileSync(join(ROOT, doc), "utf8"));

describe("every shell block says whether the docs check runs it", () => {
  it.each(DOCUMENTS)("%s", (doc) => {
    const unmarked = blocksOf(doc).filter((b) => !b.mark).map((b) => `${b.file}:${b.line}: ${b.code.split("\n")[0]}`);
    expect(unmarked, "mark each with <!-- check: run --> or <!-- check: not run: <reason> -->").toEqual([]);
  });
});

const withRunBlocks = DOCUMENTS.filter((doc) => blocksOf(doc).some((b) => b.mark?.run));

describe("the documented commands answer as documented", () => {
  it.each(withRunBlocks)("%s", (doc) => {
    const blocks = blocksOf(doc).filter((b) => b.mark?.run);
    const results = runInOneShell(blocks);
    // DOCS_CHECK_PRINT=1 prints what each block answered, to write or refresh a documented response.
    if (process.env.DOCS_CHECK_PRINT) for (const r of results) console.log(r.output);
    for (const [i, block] of blocks.entries()) {
      const where = `${block.file}:${block.line}`;
      const result = results[i];
      expect(result, `${where} did not run; the block before it failed:\n${results.at(-1)?.output}`).toBeDefined();
      expect(result!.status, `${where} exited ${result!.status}:\n${block.code}\n--- output ---\n${result!.output}`).toBe(0);
      // curl exits 0 on a 4xx: an error response the document does not show is a failure too.
      const problem = /"type":"https:\/\/herald\.dev\/problems\//.test(result!.output);
      expect(problem, `${where} answered with a problem:\n${result!.output}`).toBe(block.mark?.run === true && block.mark.problem);
      const missing = block.fields.filter((f) => !result!.output.includes(`"${f}"`));
      expect(missing, `${where}: documented fields missing from the output:\n${result!.output}`).toEqual([]);
    }
  });
});

/** Runs the blocks in one bash; returns, per block that started, its exit status and output. */
function runInOneShell(blocks: ShellBlock[]) {
  const local = (code: string) =>
    code
      .replaceAll("http://127.0.0.1:8787", dev.url)
      .replaceAll("localhost:8787", `127.0.0.1:${dev.port}`)
      .replaceAll("dev-admin-token", dev.adminToken);
  const script = [
    "exec 2>&1",
    "set -eo pipefail",
    // A block's last command may fail under `set -e` only through this trap, which reports it.
    `trap '__rc=$?; echo; echo "@@end $__block $__rc"' EXIT`,
    ...blocks.flatMap((b, i) => [`__block=${i}; echo "@@begin ${i}"`, local(b.code), `echo; echo "@@ok ${i}"`]),
    "trap - EXIT",
  ].join("\n");
  const run = spawnSync("bash", ["-c", script], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 100_000,
    env: { ...process.env, HERALD: dev.url, KEY: dev.apiKey, ADMIN_TOKEN: dev.adminToken },
  });
  const out = run.stdout + (run.error ? `\n${run.error.message}` : "");
  const results: { status: number; output: string }[] = [];
  for (const [i] of blocks.entries()) {
    const start = out.indexOf(`@@begin ${i}\n`);
    if (start < 0) break;
    const body = out.slice(start + `@@begin ${i}\n`.length);
    const ok = body.indexOf(`@@ok ${i}\n`);
    if (ok >= 0) {
      results.push({ status: 0, output: body.slice(0, ok) });
      continue;
    }
    const failed = new RegExp(`@@end ${i} (\\d+)`).exec(body);
    results.push({ status: failed ? Number(failed[1]) : (run.status ?? -1), output: body });
    break;
  }
  return results;
}
