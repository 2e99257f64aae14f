import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// One JSON line per request (src/api/middleware/request-log.ts) and per delivery (consume.ts) would
// bury every other log in the test output. Tests that check those lines spy on console.log, which
// sees them before this does.
const log = console.log.bind(console);
console.log = (...args: unknown[]) => {
  if (typeof args[0] === "string" && /^\{"msg":"(request|delivery)"/.test(args[0])) return;
  log(...args);
};
