/**
 * `message.received` for tenant webhooks: one delivery-log row per subscribed endpoint, written
 * in the ingest's batch and then attempted by the events queue like every status event
 * (src/pipeline/event-batch.ts: signed with Standard Webhooks, retried with back-off). The
 * `webhook-id` (eventId) is stable per inbound message, so receivers dedupe on it.
 */
import type { ConversationMessageRow } from "../db/conversations";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "../db/webhooks";
import { pendingDelivery } from "../pipeline/tenant-webhooks";
import type { InboundMessage } from "./inbound";
import type { Decision } from "./thread";
import { mediaDto } from "./media";

export const MESSAGE_RECEIVED = "message.received";

type Received = { row: ConversationMessageRow; message: InboundMessage; decision: Extract<Decision, { kind: "store" }> };

export function receivedPayload({ row, message, decision }: Received) {
  return {
    type: MESSAGE_RECEIVED,
    timestamp: row.at.toISOString(),
    data: {
      id: row.id,
      conversationId: row.conversationId,
      channel: decision.key.channel,
      from: decision.key.contact,
      to: message.to,
      text: row.text,
      subject: row.subject,
      button: row.button,
      media: mediaDto(row.conversationId, row.id, row.media),
      keyword: row.keyword,
      recipientType: decision.recipient?.type ?? null,
      recipientId: decision.recipient?.id ?? null,
      inReplyToCommunicationId: row.inReplyToCommunicationId,
      entityType: decision.answered?.entityType ?? null,
      entityId: decision.answered?.entityId ?? null,
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
    return to.map((e) => pendingDelivery(r.row.tenantId, e.id, { eventId: `evt_msg_${r.row.id}`, eventType: MESSAGE_RECEIVED, payload, subjectId: r.row.conversationId }, now));
  });
}
