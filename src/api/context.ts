/** The one generic that carries bindings and per-request variables through Hono. */
import type { Config, Env } from "../env";
import type { Db } from "../db/client";

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
  };
};
