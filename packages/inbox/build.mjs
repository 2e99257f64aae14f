// Builds <herald-inbox>: one ES module with lit bundled in (dist/herald-inbox.js) and its type
// declarations (dist/*.d.ts). `bundle()` is the same build in memory, for the Herald Worker's
// copy (scripts/inbox-bundle.mjs) and the test that the copy is up to date.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The bundled module's text: deterministic for the same sources and esbuild version. */
export async function bundle() {
  const result = await build({
    entryPoints: [join(here, "src/herald-inbox.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    legalComments: "none",
    write: false,
    tsconfig: join(here, "tsconfig.json"),
    banner: { js: "// <herald-inbox> from @herald/inbox (includes lit, BSD-3-Clause, Google LLC). Built by packages/inbox/build.mjs." },
  });
  return result.outputFiles[0].text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(join(here, "dist"), { recursive: true });
  writeFileSync(join(here, "dist/herald-inbox.js"), await bundle());
  execFileSync(process.execPath, [join(here, "../../node_modules/typescript/bin/tsc"), "-p", join(here, "tsconfig.json")], { stdio: "inherit" });
  console.log("built packages/inbox/dist/herald-inbox.js and its .d.ts");
}
