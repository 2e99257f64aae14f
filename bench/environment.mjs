/**
 * The machine and the tool versions the figures were taken with: a number means little without
 * them. Versions are read from the packages actually resolved, not from package.json ranges.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";

export function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    cpu: cpus[0]?.model.trim() ?? "unknown",
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os.loadavg(),
  };
}

/** The version of the package `name` as resolved from `fromFile` (node_modules lookup). */
function packageVersion(name, fromFile) {
  let dir = dirname(createRequire(fromFile).resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (pkg.name === name) return { version: pkg.version, dir };
    } catch {
      // no package.json here; keep walking up
    }
    const up = dirname(dir);
    if (up === dir) return { version: "unknown", dir };
    dir = up;
  }
}

export function versions() {
  const miniflare = packageVersion("miniflare", import.meta.url);
  const wrangler = packageVersion("wrangler", import.meta.url);
  return {
    node: process.version,
    wrangler: wrangler.version,
    // The one this bench drives, and the one `wrangler dev` would use; they can differ.
    miniflare: miniflare.version,
    workerd: packageVersion("workerd", join(miniflare.dir, "package.json")).version,
    wranglerMiniflare: packageVersion("miniflare", join(wrangler.dir, "package.json")).version,
    autocannon: packageVersion("autocannon", import.meta.url).version,
  };
}
