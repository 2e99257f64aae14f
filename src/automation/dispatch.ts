/**
 * Runs automated sends through the same path as `POST /api/communications/send`: SendRequest
 * validation, preferences and routing, quiet hours, suppression, template rendering, quotas, one
 * D1 batch, the send queue. The caller's own bookkeeping (marking an event processed, advancing a
 * reminder, closing a digest) goes in that same batch, so the communications exist exactly when
 * the bookkeeping says they do. A send that cannot be made (no contact, a missing variable, no
 * provider) is recorded as an error for the caller to report; it never blocks the others.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { CommunicationRow } from "../db/communications";
import type { PreferenceRow } from "../db/preferences";
import type { LimiterNamespace } from "../durable/client";
import { withinQuota } from "../durable/quota";
import { AppError } from "../lib/errors";
import { storeAndEnqueue, type AcceptContext } from "../pipeline/accept";
import { loadRecipients, type Recipients } from "../pipeline/plan";
import { prepare } from "../pipeline/prepare";
import { SendRequest } from "../pipeline/send-request";
import { contentResolver } from "../pipeline/template-content";
import { fieldErrors } from "../api/validate";
import type { EventRecipient } from "./event";
import { stepRequests, type StepBase } from "./requests";
import type { SendStep } from "./rule";

export type AutomatedSend = {
  label: string;
  createdBy: string | null;
  recipient: EventRecipient;
  step: SendStep;
  base: StepBase;
  /** Columns set on every communication this send creates (a workflow run's and step's ids). */
  row?: Partial<CommunicationRow>;
  /** Changes each request before validation (a workflow step's inline content instead of a template). */
  adjust?: (request: Record<string, unknown>) => Record<string, unknown>;
};
export type SendError = { label: string; field?: string; message: string };
export type DispatchDeps = Omit<AcceptContext, "createdBy"> & { limiter: LimiterNamespace };

/**
 * storeAndEnqueue writes up to 250 rows per D1 transaction; staying within one keeps the
 * communications and the bookkeeping all-or-nothing, which is what makes a retry safe.
 */
export const MAX_COMMUNICATIONS = 250;

const prefKey = (type: string, id: string) => `${type}\u0000${id}`;

async function preferencesFor(ctx: DispatchDeps, sends: AutomatedSend[]): Promise<Recipients> {
  // loadRecipients reads only recipientType and recipientId: the recipients' keys are enough.
  const keys = sends.filter((s) => s.recipient.id).map((s) => ({ recipientType: s.recipient.type, recipientId: s.recipient.id }));
  return loadRecipients(ctx.db, ctx.secret, ctx.tenantId, keys as SendRequest[]);
}

/** What the caller writes alongside the communications, given what was made and what could not be. */
export type Bookkeeping = (rows: CommunicationRow[], errors: SendError[]) => BatchItem<"sqlite">[];

export async function dispatch(d: DispatchDeps, sends: AutomatedSend[], bookkeeping: Bookkeeping) {
  const ctx: AcceptContext = { ...d, createdBy: null };
  const errors: SendError[] = [];
  const rows: CommunicationRow[] = [];
  const notes: BatchItem<"sqlite">[] = [];
  const followUps: Awaited<ReturnType<typeof prepare>>["followUps"] = [];
  if (sends.length) {
    const recipients = await preferencesFor(d, sends);
    const prefs = new Map<string, PreferenceRow>([...recipients.preferences.values()].map((p) => [prefKey(p.entityType, p.entityId), p]));
    const resolve = contentResolver(d.db, d.tenantId);
    for (const s of sends) {
      const pref = s.recipient.id ? prefs.get(prefKey(s.recipient.type, s.recipient.id)) : undefined;
      for (const request of stepRequests(s.step, s.recipient, pref, s.base)) {
        const raw = s.adjust ? s.adjust(request) : request;
        const parsed = SendRequest.safeParse(raw);
        if (!parsed.success) {
          for (const e of fieldErrors(parsed.error)) errors.push({ label: s.label, ...e });
          continue;
        }
        try {
          const prepared = await prepare({ ...ctx, createdBy: s.createdBy }, recipients, resolve, parsed.data);
          if (rows.length + prepared.rows.length > MAX_COMMUNICATIONS) {
            errors.push({ label: s.label, message: `not sent: one event or step may create at most ${MAX_COMMUNICATIONS} communications` });
            continue;
          }
          if (s.row) for (const row of prepared.rows) Object.assign(row, s.row);
          rows.push(...prepared.rows);
          notes.push(...prepared.notes);
          followUps.push(...prepared.followUps);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          errors.push({ label: s.label, field: error.errors?.[0]?.field, message: error.message });
        }
      }
    }
  }
  try {
    await withinQuota(d.limiter, d.tenantId, rows, () => storeAndEnqueue(ctx, rows, [...notes, ...bookkeeping(rows, errors)], followUps));
    return { rows, errors };
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== "quota_exceeded") throw error;
    // Over quota: nothing is sent, the refusal is recorded, and the bookkeeping still moves on.
    const refused = [...errors, ...sends.map((s) => ({ label: s.label, message: error.message }))];
    await storeAndEnqueue(ctx, [], bookkeeping([], refused));
    return { rows: [], errors: refused };
  }
}
