// drizzle-kit reads the schema and writes numbered SQL migrations that wrangler applies
// (`npm run db:migrate:local`) and the tests apply with `applyD1Migrations`.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
});
