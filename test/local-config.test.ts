/**
 * The local development settings (.dev.vars.example, which `npm start` and the bench read) against
 * the deployed ones (wrangler.toml [vars], which `wrangler deploy` uploads): what is only safe on a
 * developer's machine must stay out of the deployed config.
 */
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import apiToml from "../wrangler.toml?raw";
import deliveryToml from "../workers/delivery/wrangler.toml?raw";
import { readConfig, type Env } from "../src/env";

const vars = (text: string) =>
  Object.fromEntries(
    [...text.matchAll(/^\s*([A-Z0-9_]+)\s*=\s*"?([^"\n]*?)"?\s*$/gm)].map(([, key, value]) => [key!, value!]),
  );
const dev = vars(devVarsExample);

describe("local development settings", () => {
  it("recover what a restart dropped from the local queue within a minute", () => {
    const stale = Number(dev.SWEEP_STALE_SECONDS);
    const cron = Number(dev.LOCAL_CRON_SECONDS);
    expect(stale).toBeGreaterThanOrEqual(10);
    expect(cron).toBeGreaterThan(0);
    expect(stale + cron).toBeLessThanOrEqual(60);
  });

  it("allow loopback URLs locally and nowhere in the deployed configs", () => {
    expect(dev.ALLOW_LOOPBACK_URLS).toBe("true");
    for (const toml of [apiToml, deliveryToml]) expect(toml).not.toMatch(/ALLOW_LOOPBACK_URLS/);
    expect(vars(apiToml).SWEEP_STALE_SECONDS).toBe("300");
  });

  it("read as the Workers read them", () => {
    const base = { ENCRYPTION_KEY: "x".repeat(44) } as unknown as Env;
    expect(readConfig({ ...base, ...dev } as Env)).toMatchObject({ sweepStaleMs: 45_000, allowLoopbackUrls: true });
    expect(readConfig(base)).toMatchObject({ sweepStaleMs: 300_000, allowLoopbackUrls: false });
    expect(() => readConfig({ ...base, ALLOW_LOOPBACK_URLS: "yes" } as Env)).toThrow(/ALLOW_LOOPBACK_URLS/);
  });
});
