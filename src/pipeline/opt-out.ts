/**
 * Recording a recipient's own "no more": a one-click unsubscribe from marketing email, or an SMS
 * STOP (and START to undo it). Each writes the consent audit record and the state that enforces
 * it, in one D1 batch.
 */
import type { Db } from "../db/client";
import type { CommunicationRow } from "../db/communications";
import { changePreference, insertConsent } from "../db/preferences";
import { liftOptOut, upsertSuppression } from "../db/tracking";
import type { Channel } from "../domain";
import { uuidv7 } from "../lib/ids";
import { consentChange } from "../preferences/consent";

export type ConsentSource = { source: string; ip?: string | null; userAgent?: string | null };

/** Marketing consent on the communication's channel is withdrawn for its recipient. */
export async function unsubscribeFromMarketing(db: Db, c: CommunicationRow, from: ConsentSource, now: Date) {
  if (!c.recipientId) {
    // No recipient record to hold a marketing-only opt-out: the address itself stops receiving.
    await upsertSuppression(db, {
      tenantId: c.tenantId,
      channel: c.channel,
      contact: c.recipientContact,
      reason: "unsubscribe",
      detail: "one-click unsubscribe",
      source: from.source,
      communicationId: c.id,
      createdAt: now,
    });
    return;
  }
  const recipient = { entityType: c.recipientType, entityId: c.recipientId };
  const change = { channel: c.channel, scope: "marketing" as const, status: "revoked" as const };
  await db.batch([
    insertConsent(db, { id: uuidv7(), tenantId: c.tenantId, ...recipient, ...change, source: from.source, ip: from.ip ?? null, userAgent: from.userAgent ?? null, createdAt: now }),
    changePreference(db, c.tenantId, recipient, consentChange(change), now),
  ]);
}

export const STOP_WORDS = ["stop", "stopall", "unsubscribe", "cancel", "end", "quit"];
export const START_WORDS = ["start", "yes", "unstop"];

/** What a reply's text says as a keyword, whatever the channel. */
export function keywordOf(body: string): "stop" | "start" | "help" | undefined {
  const word = body.trim().toLowerCase();
  if (STOP_WORDS.includes(word)) return "stop";
  if (START_WORDS.includes(word)) return "start";
  return word === "help" || word === "info" ? "help" : undefined;
}

/** The consent record and suppression change a STOP or START reply makes, as batch statements. */
export function keywordStatements(db: Db, tenantId: string, channel: Channel, contact: string, body: string, now: Date) {
  const word = body.trim().toLowerCase();
  const kind = keywordOf(body);
  const consent = (status: "granted" | "revoked") =>
    insertConsent(db, {
      id: uuidv7(),
      tenantId,
      // Replies identify a contact, not a tenant's recipient record.
      entityType: "contact",
      entityId: contact,
      channel,
      scope: "all",
      status,
      source: `${channel}_keyword:${word}`,
      ip: null,
      userAgent: null,
      createdAt: now,
    });
  if (kind === "stop") {
    return [
      consent("revoked"),
      upsertSuppression(db, { tenantId, channel, contact, reason: "opt_out", detail: `replied ${word.toUpperCase()}`, source: "inbound", communicationId: null, createdAt: now }),
    ];
  }
  if (kind === "start") return [consent("granted"), liftOptOut(db, tenantId, channel, contact)];
  return [];
}

/** Applies an SMS keyword reply; returns what it was, for the caller's log. */
export async function applySmsKeyword(db: Db, tenantId: string, channel: Channel, contact: string, body: string, now: Date) {
  const statements = keywordStatements(db, tenantId, channel, contact, body, now);
  if (statements.length) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  return keywordOf(body) ?? "message";
}
