/** The one generic that carries bindings and per-request variables through Hono. */
import type { Config, Env } from "../env";
import type { Db } from "../db/client";
import type { Admission } from "./middleware/rate-limit";

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** W3C trace id: the caller's (traceparent) or a new one (middleware/request-log.ts). */
    traceId: string;
    config: Config;
    db: Db;
    /** Set by the API-key middleware on /api routes. */
    tenantId: string;
    apiKeyId: string;
    apiKeyName: string;
    /** Set by the rate-limit middleware on the send routes, which take their tokens themselves. */
    admission?: Admission;
  };
};
