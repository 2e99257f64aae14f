// Tests run inside workerd with real D1 and Queues. The API Worker is the main Worker; the
// delivery Worker's handler is imported by the tests (test/helpers.ts), which share its bindings.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token",
            ENCRYPTION_KEY: "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=",
            PUBLIC_URL: "https://herald.test",
          },
          // Any request no test mocked is a leak: answer it with a status no provider uses.
          outboundService: (req: Request) => new Response(`unmocked outbound ${req.method} ${req.url}`, { status: 599 }),
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    },
  };
});
