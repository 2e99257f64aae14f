/**
 * The Hono app: request ids, per-request services, routes, and the one place errors become
 * HTTP responses (application/problem+json, never a stack or a secret).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./context";
import { problem } from "./problem";
import { apiKeyAuth } from "./middleware/api-key";
import { d1Session } from "./middleware/d1-session";
import { forgetConfigOnWrite } from "./middleware/config-writes";
import { requestLog } from "./middleware/request-log";
import { perItem, rateLimit } from "./middleware/rate-limit";
import { admin } from "./routes/admin";
import { communications } from "./routes/communications";
import { providers } from "./routes/providers";
import { MAX_BATCH, send } from "./routes/send";
import { templates } from "./routes/templates";
import { providerWebhooks } from "./routes/provider-webhooks";
import { inboundWebhooks } from "./routes/inbound-webhooks";
import { stats } from "./routes/stats";
import { suppressions } from "./routes/suppressions";
import { usage } from "./routes/usage";
import { webhooks } from "./routes/webhooks";
import { settings } from "./routes/settings";
import { preferences } from "./routes/preferences";
import { tracking } from "./routes/tracking";
import { unsubscribe } from "./routes/unsubscribe";
import { preferenceCenter } from "./routes/preference-center";
import { inbox, inboxAssets, inboxTokens } from "./routes/inbox";
import { recipients } from "./routes/recipients";
import { preferenceLink } from "./routes/preference-link";
import { devices } from "./routes/devices";
import { consolePages } from "./routes/console";
import { events } from "./routes/events";
import { triggers } from "./routes/triggers";
import { reminders } from "./routes/reminders";
import { auditLog } from "./routes/audit-log";
import { openApi } from "./routes/openapi";
import { audiences } from "./routes/audiences";
import { campaigns } from "./routes/campaigns";
import { sendDryRun } from "./routes/send-dry-run";
import { mcp } from "./routes/mcp";
import { workflows } from "./routes/workflows";
import { workflowTemplates } from "./routes/workflow-templates";
import { conversations } from "./routes/conversations";
import { apiKeys } from "./routes/api-keys";
import { database } from "../db/client";
import { readConfig } from "../env";
import { AppError } from "../lib/errors";

const MB = 1024 * 1024;
const BULK_MEMBERS = /^\/api\/audiences\/[^/]+\/(members|members\/remove|import)$/;
const tooLarge = (max: string) => () => {
  throw new AppError("payload_too_large", `request body is larger than ${max}`);
};

export function createApp() {
  const app = new Hono<AppEnv>();

  app.use(requestId());
  app.use(requestLog());
  app.use(async function services(c, next) {
    c.set("config", readConfig(c.env));
    c.set("db", database(c.env.DB));
    await next();
  });

  app.get("/", (c) => c.json({ name: "herald", docs: "/docs", openapi: "/openapi.json", health: "/health" }));
  app.get("/health", (c) => c.json({ ok: true }));
  app.route("/", openApi);

  app.use("/admin/*", bodyLimit({ maxSize: 64 * 1024, onError: tooLarge("64 KB") }));
  app.route("/admin", admin);

  // Providers authenticate by signature, checked per provider inside the route.
  app.use("/webhooks/*", bodyLimit({ maxSize: 5 * MB, onError: tooLarge("5 MB") }));
  app.route("/webhooks/inbound", inboundWebhooks);
  app.route("/webhooks", providerWebhooks);
  // Open pixel and click redirect: the signed token in the URL is the credential.
  app.route("/t", tracking);
  app.route("/u", unsubscribe);
  app.use("/preferences/*", bodyLimit({ maxSize: 64 * 1024, onError: tooLarge("64 KB") }));
  app.route("/preferences", preferenceCenter);

  // The inbox's browser-facing routes authenticate with recipient tokens, not API keys.
  app.use("/api/inbox/*", bodyLimit({ maxSize: MB, onError: tooLarge("1 MB") }));
  app.route("/api/inbox", inbox);
  app.route("/inbox", inboxAssets);
  // The admin console's static files; the page signs in with an API key for its /api calls.
  app.route("/", consolePages);

  // Before the key lookup, so that every query of an API request runs in its D1 session.
  app.use("/api/*", d1Session());
  app.use("/api/*", apiKeyAuth());
  app.use("/api/communications/batch", bodyLimit({ maxSize: 10 * MB, onError: tooLarge("10 MB") }));
  // 20 MB of inline attachments is about 27 MB as base64; Workers take request bodies up to 100 MB.
  app.use("/api/communications/send", bodyLimit({ maxSize: 28 * MB, onError: tooLarge("28 MB") }));
  // Bulk member calls take up to 10,000 members (JSON or CSV).
  app.use("/api/audiences/:id/members", bodyLimit({ maxSize: 10 * MB, onError: tooLarge("10 MB") }));
  app.use("/api/audiences/:id/members/remove", bodyLimit({ maxSize: 10 * MB, onError: tooLarge("10 MB") }));
  app.use("/api/audiences/:id/import", bodyLimit({ maxSize: 10 * MB, onError: tooLarge("10 MB") }));
  app.use("/api/*", async (c, next) => {
    if (c.req.path === "/api/communications/batch" || c.req.path === "/api/communications/send" || BULK_MEMBERS.test(c.req.path)) return next();
    return bodyLimit({ maxSize: MB, onError: tooLarge("1 MB") })(c, next);
  });
  // After the body limits: a batch costs one token per item, counted from its (size-checked) body.
  app.use("/api/*", rateLimit({ cost: perItem("/api/communications/batch", MAX_BATCH), deferredAt: ["/api/communications/send", "/api/communications/batch"] }));
  app.use("/api/*", forgetConfigOnWrite());
  app.route("/api/providers", providers);
  app.route("/api/communications", send);
  app.route("/api/communications", sendDryRun);
  app.route("/api/communications", stats);
  app.route("/api/communications", communications);
  app.route("/api/communication-templates", templates);
  app.route("/api/suppressions", suppressions);
  app.route("/api/webhooks", webhooks);
  app.route("/api/usage", usage);
  app.route("/api/settings", settings);
  app.route("/api/communication-preferences", preferences);
  app.route("/api/inbox", inboxTokens);
  app.route("/api/events", events);
  app.route("/api/triggers", triggers);
  app.route("/api/reminders", reminders);
  app.route("/api/recipients", devices);
  app.route("/api/recipients", recipients);
  app.route("/api/recipients", preferenceLink);
  app.route("/api/audit-log", auditLog);
  app.route("/api/audiences", audiences);
  app.route("/api/campaigns", campaigns);
  app.route("/api/workflows", workflows);
  app.route("/api/workflow-templates", workflowTemplates);

  // AI agents (Model Context Protocol): tools that call the /api routes above in-process with the caller's key.
  app.use("/mcp", bodyLimit({ maxSize: MB, onError: tooLarge("1 MB") }));
  app.route("/mcp", mcp(app));
  app.route("/api/conversations", conversations);
  app.route("/api/keys", apiKeys);

  app.notFound((c) => problem(404, "not_found", `no route for ${c.req.method} ${c.req.path}`, c.var.requestId ?? ""));

  app.onError((error, c) => {
    const id = c.var.requestId ?? "";
    if (error instanceof AppError) {
      const res = problem(error.status, error.code, error.message, id, error.errors);
      for (const [name, value] of Object.entries(error.headers ?? {})) res.headers.set(name, value);
      return res;
    }
    if (error instanceof HTTPException && error.status < 500) return problem(error.status, "bad_request", error.message, id);
    // No raw path: it may hold a token or a contact. The request's own log line names its route.
    console.error(JSON.stringify({ msg: "unhandled error", requestId: id, traceId: c.var.traceId, method: c.req.method, error: String(error), stack: (error as Error).stack }));
    return problem(500, "internal", "something went wrong on our side; the request id helps us find it", id);
  });

  return app;
}
