/**
 * MCP tools over communications: send (or preview it, or dry-run it), look one up with its
 * timeline, and search the history. Each is one /api call (src/mcp/call.ts); the schemas here
 * describe the arguments for the agent and check their types, and the route checks the rest
 * (contacts, templates, preferences), answering with the same field names as the HTTP API.
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallApi } from "../call";
import { Channel, CHANNELS, Priority, PublicStatus } from "../../domain";

const channel = Channel;
const day = z.string().describe("YYYY-MM-DD (a whole day) or an ISO 8601 date-time with offset");

export const SendArgs = {
  channel: z
    .enum([...CHANNELS, "auto"])
    .optional()
    .describe('The channel to send on, or "auto" to let the recipient\'s preferences choose (needs recipientId).'),
  channels: z.array(channel).optional().describe("Channels to route among by the recipient's preferences, instead of channel."),
  strategy: z.enum(["all", "first"]).optional().describe("With routing: send on every allowed channel (all, the default) or only the first."),
  recipientContact: z
    .string()
    .optional()
    .describe("Email address, or phone number in international format (+4915123456789) for sms/whatsapp. Omit for a routed send."),
  recipientType: z.string().optional().describe('The kind of recipient, a lowercase slug (default "customer").'),
  recipientId: z.string().optional().describe("The recipient's id in your system; preferences, quiet hours and the inbox key on it."),
  recipientName: z.string().optional(),
  subject: z.string().optional().describe("Email subject (required for email unless a template gives one)."),
  content: z.string().optional().describe("The message body (HTML for email). Give content or a template, not both."),
  templateCode: z.string().optional().describe("A template's code (see list_templates); rendered with templateVariables."),
  templateId: z.string().optional().describe("A template's id, instead of templateCode."),
  templateVariables: z.record(z.string(), z.unknown()).optional().describe("Values for the template's {{variables}}."),
  locale: z.string().optional().describe("Template locale such as en or fr-CA; defaults to the recipient's."),
  type: z.string().optional().describe('The notification type, a lowercase slug such as "invoice_due"; preferences are per type.'),
  priority: Priority.optional(),
  scheduledAt: z.string().optional().describe("ISO 8601 date-time with offset to send later."),
  entityType: z.string().optional().describe("What the message is about, e.g. invoice."),
  entityId: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  preview: z.boolean().optional().describe("Render the message (subject, body, text) and return it without sending or storing anything."),
  dryRun: z.boolean().optional().describe("Validate and plan the send (preferences, suppressions, quiet hours) without storing or sending it."),
  idempotencyKey: z.string().optional().describe("Makes retries safe: a second send with the same key and body returns the first answer."),
};

export const SearchArgs = {
  channel: channel.optional(),
  status: PublicStatus.optional(),
  type: z.string().optional().describe("Notification type slug."),
  recipientId: z.string().optional(),
  entityType: z.string().optional(),
  entityId: z.string().optional(),
  startDate: day.optional().describe("Created at or after (YYYY-MM-DD or ISO date-time)."),
  endDate: day.optional().describe("Created at or before; a bare date includes the whole day."),
  page: z.number().int().min(1).optional(),
  size: z.number().int().min(1).max(100).optional().describe("Results per page, at most 100 (default 20)."),
};

type Planned = { channel: string; status: string; reason?: string; recipientContact: string; estimatedSendTime: string; subject: string | null; content: string; textContent: string | null };

export function registerCommunicationTools(server: McpServer, call: CallApi) {
  server.registerTool(
    "send",
    {
      title: "Send a message",
      description:
        "Send an email, SMS, WhatsApp, Messenger, push or in-app message to one recipient, with its own content or from a template. " +
        "Set preview to see the rendered message, or dryRun to check that it would be accepted, without sending anything. " +
        "Returns the communication's id and status; use get_communication to follow it. Needs the communications:send scope.",
      inputSchema: SendArgs,
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async ({ preview, dryRun, idempotencyKey, ...body }) => {
      if (preview || dryRun) {
        return call({ method: "POST", path: "/api/communications/send/dry-run", body }, (r: { results: Planned[] }) =>
          preview
            ? { preview: true, sent: false, messages: r.results }
            : {
                dryRun: true,
                valid: true,
                stored: false,
                wouldSend: r.results.map(({ channel, status, reason, recipientContact, estimatedSendTime }) => ({ channel, status, reason, recipientContact, estimatedSendTime })),
              },
        );
      }
      return call({ method: "POST", path: "/api/communications/send", body, headers: { "idempotency-key": idempotencyKey } });
    },
  );

  server.registerTool(
    "get_communication",
    {
      title: "Look up a message",
      description:
        "One communication by id: its status, recipient, content, provider and cost, and its timeline (accepted, each provider attempt, " +
        "delivered/opened/clicked/bounced). Needs communications:read.",
      inputSchema: { id: z.string().min(1).describe("The communication id returned by send.") },
      annotations: { readOnlyHint: true },
    },
    ({ id }) => call({ method: "GET", path: `/api/communications/${encodeURIComponent(id)}` }),
  );

  server.registerTool(
    "search_communications",
    {
      title: "Search message history",
      description:
        "The tenant's sent messages, newest first, filtered by channel, status, type, recipient, entity or date range; paginated " +
        "(count gives the total). Needs communications:read.",
      inputSchema: SearchArgs,
      annotations: { readOnlyHint: true },
    },
    (query) => call({ method: "GET", path: "/api/communications", query }),
  );
}
