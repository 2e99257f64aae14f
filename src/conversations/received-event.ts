/**
 * `message.received` for tenant webhooks: one delivery-log row per subscribed endpoint, written
 * in the ingest's batch and then attempted by the events queue like every status event
 * (src/pipeline/event-batch.ts: signed with Standard Webhooks, retried with back-off). The
 * `webhook-id` (eventId) is stable per inbound message, so receivers dedupe on it. A message with
 * media to fetch is announced by the media job (media-job.ts) once they are settled, from what it
 * reads back; its rows' ids derive from the message and the endpoint, so a job that runs twice
 * logs each delivery once (ON CONFLICT DO NOTHING, as inbox.action does).
 */
import type { ConversationMessageRow } from "../db/conversations";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "../db/webhooks";
import { pendingDelivery } from "../pipeline/tenant-webhooks";
import type { Channel } from "../domain";
import { mediaDto } from "./media";

export const MESSAGE_RECEIVED = "message.received";

/** The stored message and what its thread and the communication it answers say about it. */
export type Received = {
  row: ConversationMessageRow;
  channel: Channel;
  from: string;
  to: string;
  recipient: { type: string; id: string } | undefined;
  answered: { entityType: string | null; entityId: string | null } | undefined;
};

export function receivedPayload({ row, channel, from, to, recipient, answered }: Received) {
  return {
    type: MESSAGE_RECEIVED,
    timestamp: row.at.toISOString(),
    data: {
      id: row.id,
      conversationId: row.conversationId,
      channel,
      from,
      to,
      text: row.text,
      subject: row.subject,
      button: row.button,
      media: mediaDto(row.conversationId, row.id, row.media),
      keyword: row.keyword,
      recipientType: recipient?.type ?? null,
      recipientId: recipient?.id ?? null,
      inReplyToCommunicationId: row.inReplyToCommunicationId,
      entityType: answered?.entityType ?? null,
      entityId: answered?.entityId ?? null,
      providerConfigId: row.providerConfigId,
      providerMessageId: row.providerMessageId,
      receivedAt: row.at.toISOString(),
    },
  };
}

export function receivedDeliveries(endpoints: WebhookEndpointRow[], received: Received[], now: Date): WebhookDeliveryRow[] {
  const to = endpoints.filter((e) => e.enabled && (e.eventTypes.includes("*") || e.eventTypes.includes(MESSAGE_RECEIVED)));
  if (to.length === 0) return [];
  return received.flatMap((r) => {
    const payload = JSON.stringify(receivedPayload(r));
    const eventId = `evt_msg_${r.row.id}`;
    return to.map((e) => ({ ...pendingDelivery(r.row.tenantId, e.id, { eventId, eventType: MESSAGE_RECEIVED, payload, subjectId: r.row.conversationId }, now), id: `${eventId}_${e.id}` }));
  });
}
