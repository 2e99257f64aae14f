// `npm run bench -- --count`: the workers test project's runtime (same wrangler config, bindings
// and migrations as test/setup.ts applies), running only bench/count/*.count.ts.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => ({
  root: new URL("../..", import.meta.url).pathname,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          ADMIN_TOKEN: "test-admin-token",
          ENCRYPTION_KEY: "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=",
          PUBLIC_URL: "https://herald.test",
        },
        outboundService: (req: Request) => new Response(`unmocked outbound ${req.method} ${req.url}`, { status: 599 }),
      },
    }),
  ],
  test: {
    name: "count",
    setupFiles: ["./test/setup.ts"],
    include: ["bench/count/**/*.count.ts"],
  },
}));
