/**
 * Data-protection requests for one recipient (issue 14): `GET /api/recipients/:type/:id/export`
 * returns everything Herald holds about them as JSON; `DELETE /api/recipients/:type/:id` erases it
 * — communications redacted in place (stored attachment files deleted), conversations blanked
 * (their media deleted from R2, src/conversations/privacy.ts), timeline details, consents,
 * suppressions, push devices and the inbox gone, tenant webhook payloads about them stubbed
 * (src/db/webhook-privacy.ts) —
 * and leaves only an opt-out marker, so messaging them again needs a new, deliberate opt-in.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { communicationDto, timelineDto } from "../dto";
import { audit } from "../audit";
import { parseWith } from "../validate";
import { runBatch } from "../../db/client";
import { deleteMemberships } from "../../db/audiences";
import { getPreference, listConsents, upsertPreference } from "../../db/preferences";
import {
  communicationsOf,
  deleteConsents,
  deleteSuppressions,
  eventsOf,
  redactCommunications,
  redactEvents,
  suppressionsOf,
  type RecipientRef,
} from "../../db/recipients";
import { inboxStub } from "../../durable/inbox";
import { deleteDevicesOf, devicesOf } from "../../db/devices";
import { deviceDto } from "./devices";
import { chunk } from "../../lib/chunk";
import { sha256Hex } from "../../lib/crypto";
import { blankPreference } from "../../preferences/consent";
import { openContacts } from "../../preferences/contact-sealing";
import { deleteStored, storedKeys } from "../../pipeline/attachments";
import { messagesOfThreads, threadsOfRecipient } from "../../db/conversation-privacy";
import { eraseConversations } from "../../conversations/privacy";
import { conversationDto, messageDto } from "./conversations";
import { eraseDeliveriesOfCommunications } from "../../db/webhook-privacy";
import { isMarker } from "../../db/markers";

const Recipient = z.object({ type: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug"), id: z.string().min(1).max(255) });

/** D1 binds at most 100 parameters per statement. */
const chunks = <T>(items: T[]) => chunk(items, 90);
const MAX_COMMUNICATIONS = 10_000;
const MAX_CONVERSATIONS = 1000;
const MAX_MESSAGES = 10_000;

async function gather(c: { var: AppEnv["Variables"] }, r: RecipientRef) {
  const { db } = c.var;
  const [stored] = await getPreference(db, r.tenantId, { entityType: r.recipientType, entityId: r.recipientId });
  // Plain contacts: the export shows them, and erasure looks their suppressions up by them.
  const pref = stored && (await openContacts(c.var.config.encryptionKey, stored));
  const communications = await communicationsOf(db, r, MAX_COMMUNICATIONS);
  const contacts = [
    ...new Set(
      [pref?.preferredEmail, pref?.preferredPhone, pref?.preferredWhatsapp, pref?.preferredMessengerId, ...communications.map((x) => x.recipientContact)].filter(
        (x): x is string => !!x && !isMarker(x),
      ),
    ),
  ];
  return { pref, communications, contacts };
}

export const recipients = new Hono<AppEnv>()
  .get("/:type/:id/export", async (c) => {
    const { type, id } = parseWith(Recipient, c.req.param());
    const r: RecipientRef = { tenantId: c.var.tenantId, recipientType: type, recipientId: id };
    const { pref, communications, contacts } = await gather(c, r);
    const events = (await Promise.all(chunks(communications.map((x) => x.id)).map((ids) => eventsOf(c.var.db, r.tenantId, ids)))).flat();
    const [consents, suppressions, inbox, devices, threads] = await Promise.all([
      listConsents(c.var.db, r.tenantId, { entityType: type, entityId: id }),
      suppressionsOf(c.var.db, r.tenantId, contacts),
      inboxStub(c.env.INBOX, r.tenantId, type, id).exportAll(),
      devicesOf(c.var.db, r),
      threadsOfRecipient(c.var.db, r, contacts, MAX_CONVERSATIONS),
    ]);
    const messages = await messagesOfThreads(c.var.db, r.tenantId, threads.map((t) => t.id), MAX_MESSAGES);
    // Grouped once (oldest first, as fetched): up to 1000 threads by 10,000 messages.
    const byThread = Map.groupBy(messages, (m) => m.conversationId);
    return c.json({
      recipient: { type, id },
      exportedAt: new Date().toISOString(),
      preferences: pref ?? null,
      consents,
      communications: communications.map((x) => ({ ...communicationDto(x), events: timelineDto(x, events.filter((e) => e.communicationId === x.id)) })),
      suppressions,
      devices: devices.map(deviceDto),
      inbox,
      conversations: threads.map((t) => ({ ...conversationDto(t), messages: (byThread.get(t.id) ?? []).map(messageDto) })),
      truncated: communications.length === MAX_COMMUNICATIONS || threads.length === MAX_CONVERSATIONS || messages.length === MAX_MESSAGES,
    });
  })
  .delete("/:type/:id", async (c) => {
    const { type, id } = parseWith(Recipient, c.req.param());
    const r: RecipientRef = { tenantId: c.var.tenantId, recipientType: type, recipientId: id };
    const { db } = c.var;
    const now = new Date();
    const pseudonym = `erased:${(await sha256Hex(`${r.tenantId}|${type}|${id}`)).slice(0, 16)}`;
    const { contacts } = await gather(c, r);
    const [consents, suppressions, devices] = await Promise.all([
      listConsents(db, r.tenantId, { entityType: type, entityId: id }),
      suppressionsOf(db, r.tenantId, contacts),
      devicesOf(db, r),
    ]);
    // Redacting a page renames its rows, so the next look finds the rest: at most MAX per pass.
    let erased = 0;
    for (let page = await communicationsOf(db, r, MAX_COMMUNICATIONS); page.length; page = await communicationsOf(db, r, MAX_COMMUNICATIONS)) {
      const ids = page.map((x) => x.id);
      await runBatch(db, [...chunks(ids).map((part) => redactEvents(db, r.tenantId, part)), redactCommunications(db, r, pseudonym)]);
      await deleteStored(c.env.ATTACHMENTS, storedKeys(page));
      erased += ids.length;
    }
    const threads = await eraseConversations(db, c.env.ATTACHMENTS, r, contacts, pseudonym, now);
    await runBatch(db, [
      // That an erasure happened, with counts only: the recipient's own opaque id is all it names.
      audit(c, "recipient.erased", { resourceId: `${type}/${id}`, detail: { communications: erased, conversations: threads.conversations, consents: consents.length, suppressions: suppressions.length } }),
      // After the loop: it finds them by the pseudonym their communications now carry.
      eraseDeliveriesOfCommunications(db, r, pseudonym, now),
      deleteConsents(db, r),
      deleteDevicesOf(db, r),
      deleteMemberships(db, r.tenantId, type, id),
      ...chunks(contacts).map((part) => deleteSuppressions(db, r.tenantId, part)),
      // What stays: an opt-out under the tenant's own opaque id, with no contact or content.
      upsertPreference(db, {
        ...blankPreference(r.tenantId, { entityType: type, entityId: id }, now),
        optedOutAt: now,
        optedOutReason: "erased; record a new opt-in before messaging again",
      }),
    ]);
    const inbox = await inboxStub(c.env.INBOX, r.tenantId, type, id).erase();
    return c.json({
      erased: { communications: erased, conversations: threads.conversations, conversationMedia: threads.media, consents: consents.length, suppressions: suppressions.length, devices: devices.length, inboxItems: inbox.items, preferences: true },
      at: now.toISOString(),
    });
  });
