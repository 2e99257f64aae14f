/**
 * MCP tools over one recipient's preferences and the tenant's suppression list. Each is one /api
 * call (src/mcp/call.ts): contacts are normalised and checked by the routes, changes are audited
 * under the caller's key, and the preferences and suppressions scopes apply as over HTTP.
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallApi } from "../call";
import { Channel, CHANNELS } from "../../domain";
import { SUPPRESSION_REASONS } from "../../channels/types";

const recipient = {
  entityType: z.string().min(1).describe('The kind of recipient, a lowercase slug such as "customer" (the recipientType of a send).'),
  entityId: z.string().min(1).describe("The recipient's id in your system (the recipientId of a send)."),
};
const recipientPath = (a: { entityType: string; entityId: string }) =>
  `/api/communication-preferences/${encodeURIComponent(a.entityType)}/${encodeURIComponent(a.entityId)}`;
const toggle = (name: string) => z.boolean().nullable().optional().describe(`Allow ${name}; null goes back to the default (allowed).`);
const contact = (what: string) => z.string().nullable().optional().describe(`Preferred ${what}; null clears it.`);

export const PreferenceChanges = {
  emailEnabled: toggle("email"),
  smsEnabled: toggle("SMS"),
  whatsappEnabled: toggle("WhatsApp"),
  messengerEnabled: toggle("Messenger"),
  pushEnabled: toggle("push"),
  inAppEnabled: toggle("in-app messages"),
  slackEnabled: toggle("Slack"),
  teamsEnabled: toggle("Microsoft Teams"),
  discordEnabled: toggle("Discord"),
  telegramEnabled: toggle("Telegram"),
  preferences: z
    .record(z.string(), z.array(z.enum(CHANNELS)).nullable())
    .optional()
    .describe('Channels allowed per notification type, e.g. {"invoice_due": ["email"]}; merged by type, null resets a type.'),
  preferredEmail: contact("email address"),
  preferredPhone: contact("phone number for SMS, in international format"),
  preferredWhatsapp: contact("WhatsApp number, in international format"),
  preferredMessengerId: contact("Messenger page-scoped id"),
  preferredSlack: contact("Slack channel or user id (C…, U…), or incoming webhook URL"),
  preferredTeams: contact("Microsoft Teams webhook URL"),
  preferredDiscord: contact("Discord webhook URL"),
  preferredTelegram: contact("Telegram chat id"),
  optedOut: z.boolean().optional().describe("true opts the recipient out of everything but mandatory messages; false opts back in."),
  optedOutReason: z.string().nullable().optional(),
  locale: z.string().nullable().optional().describe("Locale for templates, e.g. fr-CA."),
  timezone: z.string().nullable().optional().describe("IANA time zone for quiet hours, e.g. Europe/Paris."),
  quietHours: z
    .object({ start: z.string().describe("HH:MM"), end: z.string().describe("HH:MM") })
    .nullable()
    .optional()
    .describe("Hours in the recipient's time zone when non-urgent messages wait; null removes them."),
};

const suppression = {
  channel: Channel,
  contact: z.string().min(1).describe("The email address or phone number (international format)."),
};

export function registerRecipientTools(server: McpServer, call: CallApi) {
  server.registerTool(
    "get_preferences",
    {
      title: "Read a recipient's preferences",
      description:
        "A recipient's channel switches, per-type channel choices, preferred contacts, opt-out, locale, time zone and quiet hours " +
        "(defaults when none were set: exists is false). Needs preferences:read.",
      inputSchema: recipient,
      annotations: { readOnlyHint: true },
    },
    (args) => call({ method: "GET", path: recipientPath(args) }),
  );

  server.registerTool(
    "update_preferences",
    {
      title: "Change a recipient's preferences",
      description:
        "Change only the fields given; the others stay. Later sends to this recipient follow the new preferences. Returns the " +
        "preferences after the change. Needs preferences:write.",
      inputSchema: { ...recipient, ...PreferenceChanges },
      annotations: { destructiveHint: false, idempotentHint: true },
    },
    ({ entityType, entityId, ...changes }) => call({ method: "PATCH", path: recipientPath({ entityType, entityId }), body: changes }),
  );

  server.registerTool(
    "list_suppressions",
    {
      title: "List suppressed contacts",
      description:
        "Contacts Herald will not send to (bounces, complaints, unsubscribes, STOP replies, manual entries), newest first, " +
        "optionally for one channel or contact. Needs suppressions:read.",
      inputSchema: {
        channel: Channel.optional(),
        contact: z.string().optional().describe("Only this contact (normalised when channel is given too)."),
        page: z.number().int().min(1).optional(),
        size: z.number().int().min(1).max(500).optional().describe("Results per page, at most 500 (default 100)."),
      },
      annotations: { readOnlyHint: true },
    },
    (query) => call({ method: "GET", path: "/api/suppressions", query }),
  );

  server.registerTool(
    "add_suppression",
    {
      title: "Suppress a contact",
      description:
        "Stop all sends on a channel to a contact: later sends to it are recorded as suppressed instead of delivered. Adding one " +
        "that exists updates its reason. Needs suppressions:write.",
      inputSchema: {
        ...suppression,
        reason: z.enum(SUPPRESSION_REASONS).optional().describe('Why (default "manual").'),
        detail: z.string().optional().describe("A note kept with the entry."),
      },
      annotations: { destructiveHint: false, idempotentHint: true },
    },
    (body) => call({ method: "POST", path: "/api/suppressions", body }),
  );

  server.registerTool(
    "remove_suppression",
    {
      title: "Lift a suppression",
      description:
        "Allow sends to a suppressed contact again on that channel. Only do this when the recipient asked for it or the address " +
        "was fixed: a bounce or complaint usually recurs. Needs suppressions:write.",
      inputSchema: suppression,
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    ({ channel, contact }) => call({ method: "DELETE", path: `/api/suppressions/${channel}/${encodeURIComponent(contact)}` }),
  );
}
