/**
 * The API Worker serves <herald-inbox> from a checked-in module (src/inbox/component-bundle.ts):
 * it must be exactly what packages/inbox builds from its sources now. If this fails, run
 * `node scripts/inbox-bundle.mjs` and commit the result.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ES module without declarations
import { MODULE_PATH, moduleText } from "../../scripts/inbox-bundle.mjs";
// @ts-expect-error plain ES module without declarations
import { bundle } from "../../packages/inbox/build.mjs";

describe("the served <herald-inbox> bundle", () => {
  it("equals a fresh build of packages/inbox", async () => {
    const fresh: string = await bundle();
    expect(fresh).toContain('customElements.define("herald-inbox"');
    expect(fresh).not.toMatch(/^import /m);
    expect(readFileSync(MODULE_PATH, "utf8") === moduleText(fresh), "src/inbox/component-bundle.ts is stale: run node scripts/inbox-bundle.mjs").toBe(true);
  });
});
