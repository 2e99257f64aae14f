/**
 * A recipient's data across the ledger, for export and erasure (issue 14). Erasure redacts in
 * place: a communication keeps its channel, type, status and times, so stats stay true, but loses
 * its contact, name, content, variables and metadata, and its timeline loses details and errors,
 * which can quote addresses. The recipient id itself is replaced, so the rows cannot be found by
 * it any more.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "./client";
import { ERASED } from "./markers";
import { communication, communicationEvent, consent, suppression } from "./schema";

export type RecipientRef = { tenantId: string; recipientType: string; recipientId: string };

const mine = (r: RecipientRef) =>
  and(eq(communication.tenantId, r.tenantId), eq(communication.recipientType, r.recipientType), eq(communication.recipientId, r.recipientId));

export const communicationsOf = (db: Db, r: RecipientRef, limit: number) =>
  db.select().from(communication).where(mine(r)).orderBy(communication.createdAt).limit(limit).all();

export const eventsOf = (db: Db, tenantId: string, ids: string[]) =>
  ids.length === 0
    ? Promise.resolve([])
    : db
        .select()
        .from(communicationEvent)
        .where(and(eq(communicationEvent.tenantId, tenantId), inArray(communicationEvent.communicationId, ids)))
        .all();

export const suppressionsOf = (db: Db, tenantId: string, contacts: string[]) =>
  contacts.length === 0
    ? Promise.resolve([])
    : db
        .select()
        .from(suppression)
        .where(and(eq(suppression.tenantId, tenantId), inArray(suppression.contact, contacts)))
        .all();

/** Timeline details and errors can quote addresses and links: they go. */
export const redactEvents = (db: Db, tenantId: string, ids: string[]) =>
  db
    .update(communicationEvent)
    .set({ detail: null, error: null })
    .where(and(eq(communicationEvent.tenantId, tenantId), inArray(communicationEvent.communicationId, ids)));

/** Keeps what stats need (channel, type, status, times); the rest goes, and the id is replaced. */
export const redactCommunications = (db: Db, r: RecipientRef, pseudonym: string) =>
  db
    .update(communication)
    .set({
      recipientId: pseudonym,
      recipientName: null,
      recipientContact: ERASED,
      subject: null,
      content: ERASED,
      textContent: null,
      templateVariables: null,
      attachments: null,
      metadata: null,
      errorMessage: null,
      providerResponse: null,
    })
    .where(mine(r));

export const deleteConsents = (db: Db, r: RecipientRef) =>
  db.delete(consent).where(and(eq(consent.tenantId, r.tenantId), eq(consent.entityType, r.recipientType), eq(consent.entityId, r.recipientId)));

export const deleteSuppressions = (db: Db, tenantId: string, contacts: string[]) =>
  db.delete(suppression).where(and(eq(suppression.tenantId, tenantId), inArray(suppression.contact, contacts)));
