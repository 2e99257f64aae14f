/**
 * MCP tools over templates and stats: list the tenant's templates (its own and the system ones),
 * render one with sample variables, and read the delivery statistics. Each is one /api call
 * (src/mcp/call.ts), so the template and stats scopes apply as they do over HTTP.
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallApi } from "../call";
import { Channel } from "../../domain";

const date = z.string().describe("YYYY-MM-DD");

export function registerTemplateTools(server: McpServer, call: CallApi) {
  server.registerTool(
    "list_templates",
    {
      title: "List templates",
      description:
        "The tenant's message templates and the built-in system ones: id, code, channel, locale, type, the variables they use and " +
        "their content. Send one with send's templateCode. Needs templates:read.",
      inputSchema: {
        channel: Channel.optional(),
        type: z.string().optional().describe("Notification type slug."),
        code: z.string().optional().describe("Only templates with this code (one per channel and locale)."),
        isActive: z.boolean().optional(),
      },
      annotations: { readOnlyHint: true },
    },
    (query) => call({ method: "GET", path: "/api/communication-templates", query }),
  );

  server.registerTool(
    "preview_template",
    {
      title: "Preview a template",
      description:
        "Render a template with the given variables and return the subject, body, HTML and text (and SMS segments for SMS), with " +
        "warnings for variables left empty. Nothing is sent. Needs templates:read.",
      inputSchema: {
        templateId: z.string().min(1).describe("The template's id (from list_templates)."),
        variables: z.record(z.string(), z.unknown()).optional().describe("Values for the template's {{variables}}."),
        locale: z.string().optional().describe("Formats dates and numbers for this locale; defaults to the template's."),
      },
      annotations: { readOnlyHint: true },
    },
    ({ templateId, variables, locale }) =>
      call({ method: "POST", path: `/api/communication-templates/${encodeURIComponent(templateId)}/preview`, body: { variables: variables ?? {}, locale } }),
  );

  server.registerTool(
    "get_stats",
    {
      title: "Read delivery statistics",
      description:
        "Totals for a date range (default the last 30 days): accepted, sent, delivered, opened, clicked, bounced, failed and their " +
        "rates, by channel, by type and per day, with send latency, cost per currency and silent failovers per provider. Needs stats:read.",
      inputSchema: { startDate: date.optional(), endDate: date.optional() },
      annotations: { readOnlyHint: true },
    },
    (query) => call({ method: "GET", path: "/api/communications/stats", query }),
  );
}
