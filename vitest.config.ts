// Two projects, one `vitest run`:
// - `workers`: tests run inside workerd with real D1 and Queues. The API Worker is the main
//   Worker; the delivery Worker's handler is imported by the tests (test/helpers.ts), which share
//   its bindings.
// - `vendor`: Node-only cross-checks of our provider requests against the vendors' own SDKs
//   (`twilio`, `@sendgrid/mail`) and OpenAPI specs (ajv). Those packages need Node built-ins, so
//   they cannot load inside workerd; nothing in this project ships.
// - `browser`: the inbox demo page in a real headless Chromium (Debian's `chromium`, driven by
//   `playwright-core`) against both Workers built and served as in the bench (bench/stack.mjs).
//   Each file builds and starts that stack, so files run one at a time with generous timeouts.
// - `docs`: `npm start` itself on a free port (test/docs/dev-server.ts), the URLs it hands out, and
//   every shell block of README.md and docs/*.md run against it (test/docs/docs-check.test.ts).
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";

const VENDOR_TESTS = "test/vendor/**/*.test.ts";
const BROWSER_TESTS = "test/browser/**/*.test.ts";
const DOCS_TESTS = "test/docs/**/*.test.ts";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ADMIN_TOKEN: "test-admin-token",
                  ENCRYPTION_KEY: "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=",
                  PUBLIC_URL: "https://herald.test",
                  // `npm start` writes .dev.vars (loopback allowed, a 45 s sweep window), which the
                  // plugin would load too: the tests run with production's values instead.
                  ALLOW_LOOPBACK_URLS: "false",
                  SWEEP_STALE_SECONDS: "300",
                },
                // Any request no test mocked is a leak: answer it with a status no provider uses.
                outboundService: (req: Request) =>
                  new Response(`unmocked outbound ${req.method} ${req.url}`, { status: 599 }),
              },
            }),
          ],
          test: {
            name: "workers",
            setupFiles: ["./test/setup.ts"],
            // A cap, not a measure: tests wait on conditions, and on a shared 2-core machine at
            // load 15 a test that sends a few dozen messages can take longer than vitest's 5 s.
            testTimeout: 30_000,
            include: ["test/**/*.test.ts", "src/**/*.test.ts"],
            exclude: [...configDefaults.exclude, VENDOR_TESTS, BROWSER_TESTS, DOCS_TESTS],
          },
        },
        {
          test: {
            name: "vendor",
            environment: "node",
            include: [VENDOR_TESTS],
          },
        },
        {
          test: {
            name: "browser",
            environment: "node",
            include: [BROWSER_TESTS],
            fileParallelism: false,
            // Building both Workers takes 10–40 s on a busy machine; a browser step a few seconds.
            hookTimeout: 180_000,
            testTimeout: 60_000,
          },
        },
        {
          test: {
            name: "docs",
            environment: "node",
            include: [DOCS_TESTS],
            globalSetup: ["./test/docs/dev-server.ts"],
            fileParallelism: false,
            // wrangler dev starts in 20-60 s on a busy machine; a guide's commands run in seconds.
            hookTimeout: 240_000,
            testTimeout: 120_000,
          },
        },
      ],
    },
  };
});
