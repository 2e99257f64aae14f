/**
 * The Model Context Protocol server Herald serves at /mcp: one McpServer per request, holding the
 * tools bound to that request's API key (src/api/routes/mcp.ts explains why per request).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallApi } from "./call";
import { registerCommunicationTools } from "./tools/communications";
import { registerRecipientTools } from "./tools/recipients";
import { registerTemplateTools } from "./tools/templates";

export const MCP_SERVER_INFO = { name: "herald", version: "0.1.0" } as const;

const INSTRUCTIONS =
  "Herald sends a tenant's transactional messages (email, SMS, WhatsApp, Messenger, push, in-app) through its own providers. " +
  "Use send with preview or dryRun first when unsure; follow a message with get_communication. Each tool needs the API key's " +
  "scope named in its description; a missing scope, a bad argument or a limit comes back as a tool error naming it.";

export function mcpServer(call: CallApi): McpServer {
  const server = new McpServer(MCP_SERVER_INFO, { instructions: INSTRUCTIONS });
  registerCommunicationTools(server, call);
  registerTemplateTools(server, call);
  registerRecipientTools(server, call);
  return server;
}
