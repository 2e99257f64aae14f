/**
 * The catalog of everything outside the tenant API: the operator's /admin, the inbox's
 * browser-facing routes (recipient tokens), provider webhooks (provider signatures), the signed
 * tracking and unsubscribe links, and the service's own pages.
 */
import { group, type RouteDoc } from "./types";
import { CreateTenant, UpdateTenant } from "../routes/admin";
import { CreateKey, RotateKey } from "../keys";
import { AuditQuery } from "../routes/audit-log";
import { Act, ListQuery as InboxListQuery, Mark, Snooze } from "../routes/inbox";

const admin = group("Operator", "admin");
const inbox = group("Inbox", "inbox");
/** A snooze must end in the future, so its example is computed, not written down. */
const tomorrowAtNine = () => `${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}T09:00:00Z`;
const hooks = group("Provider webhooks", "signature");
const links = group("Tracking and unsubscribe", "signedLink");
const center = group("Preference center", "signedLink");
const service = group("Service", "none");
const agents = group("AI agents (MCP)", "apiKey");

const webhookParams = { provider: "sendgrid", configId: "<provider config id>" };

export const PUBLIC_ROUTES: RouteDoc[] = [
  service("GET /", "Service name and links"),
  service("GET /health", "Liveness"),
  service("GET /openapi.json", "This document (OpenAPI 3.1)"),
  service("GET /docs", "The interactive API reference", { success: { status: 200, contentType: "text/html" } }),

  admin("POST /admin/tenants", "Create a tenant and its first API key (shown once)", { body: { name: "CreateTenant", schema: CreateTenant, example: { name: "Acme" } } }),
  admin("GET /admin/tenants/:id", "A tenant with its API keys and limits"),
  admin("PATCH /admin/tenants/:id", "Change a tenant's rate limit or quotas", { body: { name: "UpdateTenant", schema: UpdateTenant, example: { quotas: { sms: 10000 } } } }),
  admin("POST /admin/tenants/:id/api-keys", "Issue an API key (shown once)", {
    body: { name: "CreateApiKey", schema: CreateKey, example: { name: "analytics", scopes: ["stats:read", "communications:read"], expiresInHours: 720 } },
  }),
  admin("POST /admin/tenants/:id/api-keys/:keyId/rotate", "Rotate an API key; the old one lives on for the overlap", {
    body: { name: "RotateApiKey", schema: RotateKey, example: { overlapHours: 24 } },
  }),
  admin("DELETE /admin/tenants/:id/api-keys/:keyId", "Revoke an API key"),
  admin("GET /admin/tenants/:id/audit-log", "A tenant's audit trail", { query: AuditQuery }),

  inbox("GET /api/inbox/ws", "The recipient's live inbox (WebSocket upgrade; token in ?token=)", { success: { status: 101, description: "Switching protocols" } }),
  inbox("GET /api/inbox/items", "The recipient's inbox items", { query: InboxListQuery }),
  inbox("GET /api/inbox/counts", "Unread and unseen counts"),
  inbox("POST /api/inbox/items/mark", "Mark items seen, read, archived…", {
    success: { status: 200 },
    body: { name: "MarkInboxItems", schema: Mark, example: { ids: ["01a20899-9f4b-755b-a538-b00797024d6e"], action: "read" } },
  }),
  inbox("POST /api/inbox/items/read-all", "Mark every item read", { success: { status: 200 } }),
  inbox("POST /api/inbox/items/snooze", "Hide items until a time, when they return unread (until: null wakes them)", {
    success: { status: 200 },
    body: { name: "SnoozeInboxItems", schema: Snooze, example: { ids: ["01a20899-9f4b-755b-a538-b00797024d6e"], until: tomorrowAtNine() } },
  }),
  inbox("POST /api/inbox/items/act", "Press an item's action button (an event button sends inbox.action to the tenant's webhooks)", {
    success: { status: 200 },
    body: { name: "ActOnInboxItem", schema: Act, example: { id: "01a20899-9f4b-755b-a538-b00797024d6e", action: 0 } },
  }),
  service("GET /inbox/client.js", "The inbox browser client", { success: { status: 200, contentType: "text/javascript" } }),
  service("GET /inbox/demo", "A live inbox demo page", { success: { status: 200, contentType: "text/html" } }),
  service("GET /inbox/herald-inbox.js", "The <herald-inbox> web component (an ES module, CORS open)", { success: { status: 200, contentType: "text/javascript" } }),
  service("GET /inbox/component", "A page trying <herald-inbox> with a token", { success: { status: 200, contentType: "text/html" } }),
  service("GET /console", "The admin console (redirects to /console/)", { success: { status: 308, description: "Redirects to /console/." } }),
  service("GET /console/*", "The admin console's pages and files (signs in with an API key in the browser)", { success: { status: 200, contentType: "text/html" } }),

  hooks("GET /webhooks/:provider/:configId", "Subscription challenge (Meta)", { params: webhookParams, success: { status: 200, contentType: "text/plain" } }),
  hooks("POST /webhooks/:provider/:configId", "Delivery events from a provider (each config's webhookUrl)", {
    params: webhookParams,
    success: { status: 200 },
    description: "The body is the provider's own format; the request must carry the provider's signature for this config's secrets.",
  }),
  hooks("POST /webhooks/:provider/:configId/inbound", "Inbound messages (the first inbound URL; same as /webhooks/inbound/…)", { params: { provider: "twilio", configId: "<provider config id>" }, success: { status: 200, contentType: "text/xml" } }),
  hooks("POST /webhooks/inbound/:provider/:configId", "Inbound messages from a provider (Twilio, Vonage, Meta, Mailgun, Postmark, Telegram, Slack), to conversations", {
    params: { provider: "vonage", configId: "<provider config id>" },
    success: { status: 200 },
    description: "The body is the provider's own format, verified with this config's secrets (docs/inbound.md). Twilio is answered with empty TwiML; a replayed Mailgun token is a 406; Slack's signed url_verification is answered with its challenge (text/plain).",
  }),
  hooks("POST /webhooks/inbound/:provider/:configId/:secret", "SendGrid Inbound Parse (the config's inboundParseSecret in the path)", {
    params: { provider: "sendgrid", configId: "<provider config id>", secret: "<inboundParseSecret>" },
    success: { status: 200 },
  }),

  links("GET /t/o/:token", "Open pixel", { success: { status: 200, contentType: "image/gif" } }),
  links("GET /t/c/:token", "Click redirect", { success: { status: 302, description: "Redirects to the link's target." } }),
  links("GET /u/:token", "Unsubscribe page (asks first)", { success: { status: 200, contentType: "text/html" } }),
  links("POST /u/:token", "One-click unsubscribe (RFC 8058)", { success: { status: 200, contentType: "text/html" } }),
  center("GET /preferences/:token", "The recipient's hosted preference center (a link from GET /api/recipients/:type/:id/preference-link)", {
    params: { token: "<signed preference link token>" },
    success: { status: 200, contentType: "text/html" },
    description: "An HTML page in the tenant's branding. A link that was changed is a 404, an expired one a 410: an HTML page for browsers, problem+json otherwise.",
  }),
  center("POST /preferences/:token", "Save the preference center's form (application/x-www-form-urlencoded)", {
    params: { token: "<signed preference link token>" },
    success: { status: 303, description: "Browsers are sent back to the page, which says the preferences are saved; a client that accepts JSON gets 200 with what the page shows." },
    description:
      "The page's own form fields, including its form token (CSRF): a missing, foreign or stale form token, or another site's Origin, is a 403. Bad values are a 400 naming the field (`timezone`, `quietHours.start`, `quietHours.end`). Changes go through the same write as PATCH /api/communication-preferences, with consent records of source `preference_center`.",
  }),
  agents("POST /mcp", "The Model Context Protocol (Streamable HTTP, stateless): tools that call this API with the caller's key", {
    description: "JSON-RPC 2.0 messages of MCP; see docs/mcp.md. Each tool needs the scope of the route it calls.",
    success: { status: 200 },
  }),
  agents("GET /mcp", "No event stream: the MCP server is stateless", { success: { status: 405, description: "Method not allowed; POST JSON-RPC messages." } }),
  agents("DELETE /mcp", "No session to end: the MCP server is stateless", { success: { status: 405, description: "Method not allowed; POST JSON-RPC messages." } }),
];
