/** Sends, the communications they make, their timelines and statistics. */
import type { Channel, CommunicationStatus, Json, Priority, Timestamp } from "./common.js";

/** Give exactly one of `fileUrl` (https) or `content` (base64). */
export type AttachmentInput = { filename: string; mimeType?: string; fileUrl?: string; content?: string };

export type SendRequest = {
  /** A channel, or "auto" to let the recipient's preferences choose. */
  channel?: Channel | "auto";
  /** Channels to route among by the recipient's preferences. */
  channels?: Channel[];
  strategy?: "all" | "first";
  type?: string;
  recipientType?: string;
  recipientId?: string;
  recipientName?: string;
  recipientContact?: string;
  subject?: string;
  content?: string;
  templateId?: string;
  templateCode?: string;
  locale?: string;
  templateVariables?: Json;
  entityType?: string;
  entityId?: string;
  attachments?: AttachmentInput[];
  scheduledAt?: Timestamp;
  priority?: Priority;
  /** Escalation: send on another channel if this one is not delivered (or opened) in time. */
  fallback?: { channel: Channel; afterSeconds: number; until?: "delivered" | "opened"; recipientContact?: string };
  receiptWindowSeconds?: number;
  metadata?: Json;
};

export type Attachment = { filename: string; mimeType: string | null; size: number | null; source: "stored" | "inline" | "url"; fileUrl?: string };

export type Communication = {
  id: string;
  tenantId: string;
  channel: Channel;
  type: string;
  status: CommunicationStatus;
  priority: Priority;
  recipientType: string;
  recipientId: string | null;
  recipientName: string | null;
  recipientContact: string;
  subject: string | null;
  content: string;
  entityType: string | null;
  entityId: string | null;
  templateId: string | null;
  templateVersion: number | null;
  locale: string | null;
  templateVariables: Json | null;
  attachments: Attachment[];
  metadata: Json | null;
  scheduledAt: Timestamp | null;
  sentAt: Timestamp | null;
  deliveredAt: Timestamp | null;
  openedAt: Timestamp | null;
  clickedAt: Timestamp | null;
  bouncedAt: Timestamp | null;
  failedAt: Timestamp | null;
  cancelledAt: Timestamp | null;
  errorMessage: string | null;
  provider: string | null;
  providerConfigId: string | null;
  providerMessageId: string | null;
  /** What the provider send cost, when its price is known. */
  cost: { amount: number; micros: number; currency: string | null } | null;
  openCount: number;
  clickCount: number;
  retryCount: number;
  maxRetries: number;
  nextRetryAt: Timestamp | null;
  originalCommunicationId: string | null;
  workflowRunId: string | null;
  workflowStepId: string | null;
  createdBy: string | null;
  createdAt: Timestamp | null;
  updatedAt: Timestamp | null;
};

/** One entry of a communication's timeline; the first is the acceptance itself. */
export type TimelineEntry = {
  at: Timestamp | null;
  kind: string;
  status: string | null;
  provider?: string | null;
  providerConfigId?: string | null;
  httpStatus?: number | null;
  error?: string | null;
  latencyMs?: number | null;
  detail: unknown;
};

export type CommunicationDetail = Communication & { events: TimelineEntry[] };

export type Accepted = { id: string; channel: Channel; status: string; estimatedSendTime: Timestamp; reason?: string | null };
export type SingleSendResult = Accepted & { communication: Communication };
export type RoutedSendResult = { results: Accepted[]; communications: Communication[] };
export type SendResult = SingleSendResult | RoutedSendResult;

export type BatchItemResult = { index: number } & (Accepted | { routed: Accepted[] } | { error: { code: string; detail: string; errors: { field: string; message: string }[] } });
export type BatchResult = { accepted: number; rejected: number; communications: number; results: BatchItemResult[] };

export type CommunicationListQuery = {
  page?: number;
  size?: number;
  channel?: Channel;
  status?: CommunicationStatus;
  type?: string;
  recipientId?: string;
  /** A recipient id or an exact contact (email, phone, …). */
  recipient?: string;
  entityType?: string;
  entityId?: string;
  /** `YYYY-MM-DD` (a whole day) or an ISO date-time. */
  startDate?: string;
  endDate?: string;
};

export type ResendRequest = { channel?: Channel; recipientContact?: string };
export type Resent = { id: string; originalCommunicationId: string; status: string };

export type StatsQuery = { startDate?: string; endDate?: string };
type Metric = "accepted" | "sent" | "delivered" | "opened" | "clicked" | "bounced" | "failed" | "suppressed" | "cancelled";
export type Stats = {
  startDate: string;
  endDate: string;
  totalAccepted: number;
  totalSent: number;
  byChannel: Record<string, number>;
  byType: Record<string, number>;
  byStatus: Record<string, number>;
  deliveryRate: number;
  openRate: number;
  clickRate: number;
  bounceRate: number;
  failureRate: number;
  averageSendLatencyMs: number | null;
  silentFailovers: { providerConfigId: string; provider: string; count: number }[];
  cost: { currency: string; amount: number; micros: number; priced: number; byChannel: Record<string, number> }[];
  daily: ({ day: string; channel: string } & Partial<Record<Metric, number>> & Record<string, string | number>)[];
};
