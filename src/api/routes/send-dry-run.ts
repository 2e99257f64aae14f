/**
 * POST /api/communications/send/dry-run: the send route's checks without its effects. The body is
 * a send request, validated, planned against the recipient's preferences, suppressions and quiet
 * hours, rendered from its template and checked for attachments exactly as POST /send does (the
 * same `prepare`), and answered with what would be stored: channel, status, contact and the
 * rendered subject and content. Nothing is written, enqueued or charged to the quota; the request
 * takes one API token like any other call. The MCP `send` tool's `preview` and `dryRun` use it.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { acceptContext, acceptedDto } from "./send";
import { parseWith, readJson } from "../validate";
import type { CommunicationRow } from "../../db/communications";
import { loadRecipients } from "../../pipeline/plan";
import { prepare } from "../../pipeline/prepare";
import { SendRequest } from "../../pipeline/send-request";
import { contentResolver } from "../../pipeline/template-content";
import { attachmentChecker } from "../../pipeline/attachments";

/** What the send would store for one planned row, minus the id it never gets. */
export const plannedDto = (row: CommunicationRow) => {
  const { id: _id, ...accepted } = acceptedDto(row);
  return {
    ...accepted,
    recipientType: row.recipientType,
    recipientId: row.recipientId,
    recipientContact: row.recipientContact,
    subject: row.subject,
    content: row.content,
    textContent: row.textContent,
    templateId: row.templateId,
    templateVersion: row.templateVersion,
    locale: row.locale,
    priority: row.priority,
  };
};

export const sendDryRun = new Hono<AppEnv>().post("/send/dry-run", async (c) => {
  const { json } = await readJson(c);
  const req = parseWith(SendRequest, json);
  const ctx = acceptContext(c);
  const recipients = await loadRecipients(ctx.db, ctx.secret, ctx.tenantId, [req]);
  const { rows } = await prepare(ctx, recipients, contentResolver(ctx.db, ctx.tenantId), req);
  await attachmentChecker(ctx.db, ctx.tenantId)(rows);
  return c.json({ dryRun: true, stored: false, results: rows.map(plannedDto) });
});
