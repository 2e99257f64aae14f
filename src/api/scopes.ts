/**
 * API key scopes (seed §10.3 plus what the platform added). One table says which scope each /api
 * route needs: reads need the `:read` scope, anything else the `:write` one (for sends,
 * `communications:send`). A path the table does not know needs the full-access scope `*`, so a new
 * route is closed to scoped keys until it is listed here.
 */
import { z } from "zod";

export const SCOPES = [
  "*",
  "communications:send",
  "communications:read",
  "stats:read",
  "templates:read",
  "templates:write",
  "preferences:read",
  "preferences:write",
  "providers:read",
  "providers:write",
  "suppressions:read",
  "suppressions:write",
  "webhooks:read",
  "webhooks:write",
  "settings:read",
  "settings:write",
  "inbox:tokens",
  "automation:read",
  "automation:write",
  "recipients:read",
  "recipients:erase",
  "devices:write",
  "audit:read",
  "audiences:read",
  "audiences:write",
  "campaigns:read",
  "campaigns:write",
  "workflows:read",
  "workflows:write",
  "conversations:read",
  "conversations:write",
  "keys:manage",
] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;

type Rule = { prefix: string; read: Scope; write: Scope };

/**
 * Paths whose resource sits under a variable segment (a recipient's devices), matched whole
 * before any prefix: a prefix cannot see past `/api/recipients/:type/:id`.
 */
const PATTERNS: { pattern: RegExp; read: Scope; write: Scope }[] = [
  { pattern: /^\/api\/recipients\/[^/]+\/[^/]+\/devices(\/[^/]+)?$/, read: "recipients:read", write: "devices:write" },
  // A GET, but the link it mints lets its holder change the recipient's preferences.
  { pattern: /^\/api\/recipients\/[^/]+\/[^/]+\/preference-link$/, read: "preferences:write", write: "preferences:write" },
  // A preview renders and writes nothing: a POST only because it carries variables.
  { pattern: /^\/api\/communication-templates\/[^/]+\/preview$/, read: "templates:read", write: "templates:read" },
];

// Longest prefix wins; order here is only for reading.
const RULES: Rule[] = [
  { prefix: "/api/communications/stats", read: "stats:read", write: "stats:read" },
  { prefix: "/api/usage", read: "stats:read", write: "stats:read" },
  { prefix: "/api/communications", read: "communications:read", write: "communications:send" },
  { prefix: "/api/communication-templates", read: "templates:read", write: "templates:write" },
  { prefix: "/api/communication-preferences", read: "preferences:read", write: "preferences:write" },
  { prefix: "/api/providers", read: "providers:read", write: "providers:write" },
  { prefix: "/api/suppressions", read: "suppressions:read", write: "suppressions:write" },
  { prefix: "/api/webhooks", read: "webhooks:read", write: "webhooks:write" },
  { prefix: "/api/settings", read: "settings:read", write: "settings:write" },
  { prefix: "/api/inbox/tokens", read: "inbox:tokens", write: "inbox:tokens" },
  { prefix: "/api/events", read: "automation:read", write: "automation:write" },
  { prefix: "/api/triggers", read: "automation:read", write: "automation:write" },
  { prefix: "/api/reminders", read: "automation:read", write: "automation:write" },
  { prefix: "/api/recipients", read: "recipients:read", write: "recipients:erase" },
  { prefix: "/api/audit-log", read: "audit:read", write: "audit:read" },
  { prefix: "/api/audiences", read: "audiences:read", write: "audiences:write" },
  { prefix: "/api/campaigns", read: "campaigns:read", write: "campaigns:write" },
  { prefix: "/api/workflows", read: "workflows:read", write: "workflows:write" },
  { prefix: "/api/workflow-templates", read: "workflows:read", write: "workflows:write" },
  { prefix: "/api/conversations", read: "conversations:read", write: "conversations:write" },
  { prefix: "/api/keys", read: "keys:manage", write: "keys:manage" },
];
const BY_LENGTH = [...RULES].sort((a, b) => b.prefix.length - a.prefix.length);

export function requiredScope(method: string, path: string): Scope {
  const rule = PATTERNS.find((p) => p.pattern.test(path)) ?? BY_LENGTH.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
  if (!rule) return "*";
  return method === "GET" || method === "HEAD" ? rule.read : rule.write;
}

export const allows = (granted: readonly string[], needed: Scope) => granted.includes("*") || granted.includes(needed);
