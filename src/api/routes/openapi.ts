/** `GET /openapi.json` (OpenAPI 3.1) and `GET /docs`, the interactive reference that reads it. */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { openApiDocument } from "../openapi/document";
import { DOCS_HTML } from "../openapi/docs-page";

export const openApi = new Hono<AppEnv>()
  .get("/openapi.json", (c) => c.json(openApiDocument(c.var.config.publicUrl)))
  .get("/docs", (c) => c.html(DOCS_HTML));
