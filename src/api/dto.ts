/** How stored rows are shown to API clients: ISO dates, no internal bookkeeping, no secrets. */
import type { CommunicationEventRow, CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import type { Attachment } from "../db/schema";
import { webhookUrl } from "../pipeline/provider-configs";
import { COMMUNICATION_STATUSES, type CommunicationStatus, type PublicStatus } from "../domain";

/** A stored status as clients see it: a claimed (`sending`) message is still `queued` to them. */
export const shownStatus = (s: CommunicationStatus): PublicStatus => (s === "sending" ? "queued" : s);

/** Every stored status shown as `s`, so a list filtered by a status holds what the detail shows. */
export const storedStatuses = (s: PublicStatus): CommunicationStatus[] => COMMUNICATION_STATUSES.filter((x) => shownStatus(x) === s);

export const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Where an attachment's bytes are: in the row, in the bucket, or behind the tenant's URL. Never the content. */
function attachmentDto(a: Attachment) {
  const source = a.storageKey ? ("stored" as const) : a.content ? ("inline" as const) : ("url" as const);
  return { filename: a.filename, mimeType: a.mimeType ?? null, size: a.size ?? null, source, ...(a.fileUrl ? { fileUrl: a.fileUrl } : {}) };
}

export function communicationDto(c: CommunicationRow) {
  return {
    id: c.id,
    tenantId: c.tenantId,
    channel: c.channel,
    type: c.type,
    status: shownStatus(c.status),
    priority: c.priority,
    recipientType: c.recipientType,
    recipientId: c.recipientId,
    recipientName: c.recipientName,
    recipientContact: c.recipientContact,
    subject: c.subject,
    content: c.content,
    entityType: c.entityType,
    entityId: c.entityId,
    templateId: c.templateId,
    templateVersion: c.templateVersion,
    locale: c.locale,
    templateVariables: c.templateVariables,
    attachments: (c.attachments ?? []).map(attachmentDto),
    metadata: c.metadata,
    scheduledAt: iso(c.scheduledAt),
    sentAt: iso(c.sentAt),
    deliveredAt: iso(c.deliveredAt),
    openedAt: iso(c.openedAt),
    clickedAt: iso(c.clickedAt),
    bouncedAt: iso(c.bouncedAt),
    failedAt: iso(c.failedAt),
    cancelledAt: iso(c.cancelledAt),
    errorMessage: c.errorMessage,
    provider: c.provider,
    providerConfigId: c.providerConfigId,
    providerMessageId: c.providerMessageId,
    /** What the provider send cost, when its price is known (src/channels/pricing.ts). */
    cost: c.costMicros === null || c.costMicros === undefined ? null : { amount: c.costMicros / 1_000_000, micros: c.costMicros, currency: c.costCurrency },
    openCount: c.openCount,
    clickCount: c.clickCount,
    retryCount: c.retryCount,
    maxRetries: c.maxRetries,
    nextRetryAt: iso(c.nextRetryAt),
    originalCommunicationId: c.originalCommunicationId,
    /** The workflow run and step that sent it (src/workflows), when one did. */
    workflowRunId: c.workflowRunId ?? null,
    workflowStepId: c.workflowStepId ?? null,
    createdBy: c.createdBy,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** The timeline, opened by the acceptance itself (derived from the row, not stored twice). */
export function timelineDto(c: CommunicationRow, events: CommunicationEventRow[]) {
  return [
    { at: iso(c.createdAt), kind: "status", status: c.scheduledAt ? "scheduled" : "queued", detail: { accepted: true } },
    ...events.map((e) => ({
      at: iso(e.createdAt),
      kind: e.kind,
      status: e.status,
      provider: e.provider,
      providerConfigId: e.providerConfigId,
      httpStatus: e.httpStatus,
      error: e.error,
      latencyMs: e.latencyMs,
      detail: e.detail,
    })),
  ];
}

export function providerDto(p: ProviderConfigRow, publicUrl: string) {
  return {
    id: p.id,
    channel: p.channel,
    provider: p.provider,
    priority: p.priority,
    enabled: p.enabled,
    settings: p.settings,
    // Credentials are write-only: only the fact that they are set is ever shown.
    credentials: "[encrypted]" as const,
    webhookUrl: webhookUrl(publicUrl, p),
    // The circuit breaker: while open, this provider goes last in failover order.
    health: { failureStreak: p.failureStreak, silentStreak: p.silentStreak, breakerOpenUntil: iso(p.breakerOpenUntil) },
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}
