/**
 * One request's way from validated body to rows: plan it against preferences (maybe into several
 * channels), render each planned send, build its row and its opening timeline notes. Shared by the
 * send routes, automation and escalations, so every path obeys the same rules.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { CommunicationRow } from "../db/communications";
import { buildPlanned, type AcceptContext } from "./accept";
import { planSend, type Recipients } from "./plan";
import type { SendRequest } from "./send-request";
import type { contentResolver } from "./template-content";
import { eventRow, insertEvent } from "../db/communications";
import { escalationMessage } from "./escalation";
import type { SendMessage } from "./queue-message";
import { pushTooLarge } from "../channels/push/message";
import { AppError } from "../lib/errors";

/** Throws AppErrors naming fields under `prefix`. */
export async function prepare(ctx: AcceptContext, recipients: Recipients, resolve: ReturnType<typeof contentResolver>, req: SendRequest, prefix = "") {
  const rows: CommunicationRow[] = [];
  const notes: BatchItem<"sqlite">[] = [];
  const followUps: { body: SendMessage; delaySeconds: number }[] = [];
  for (const planned of planSend(req, recipients, ctx.now, prefix)) {
    const built = buildPlanned(ctx, planned, await resolve(planned.req, prefix));
    // Rendered content is known only now; push services refuse payloads over about 4 KB.
    const tooLarge = built.row.channel === "push" ? pushTooLarge({ ...built.row, communicationId: built.row.id }, built.row.metadata) : undefined;
    if (tooLarge) throw new AppError("validation_failed", tooLarge, [{ field: `${prefix}content`, message: tooLarge }]);
    rows.push(built.row);
    notes.push(...built.notes);
    if (req.fallback && built.row.status !== "suppressed") {
      followUps.push(escalationMessage(built.row, req.fallback));
      notes.push(
        insertEvent(ctx.db, eventRow({
          tenantId: built.row.tenantId,
          communicationId: built.row.id,
          kind: "note",
          detail: { fallback: req.fallback, reason: `escalates to ${req.fallback.channel} unless ${req.fallback.until} within ${req.fallback.afterSeconds} s` },
          createdAt: ctx.now,
        })),
      );
    }
  }
  return { rows, notes, followUps };
}
