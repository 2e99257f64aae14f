// Types for the test runtime: the bindings the tests see, and the API Worker as the main module.
import type { D1Migration } from "cloudflare:test";
import type { Env as HeraldEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends HeraldEnv {
      TEST_MIGRATIONS: D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
