/** Audiences and campaigns, conversations, recipients' devices and data, the audit log, usage. */
import type { Channel, Json, Timestamp } from "./common.js";
import type { Communication, TimelineEntry } from "./communications.js";

export type Audience = { id: string; kind: "list" | "topic"; name: string; description: string | null; members?: number; createdAt: Timestamp | null; updatedAt: Timestamp | null };
export type CreateAudience = { name: string; kind?: "list" | "topic"; description?: string };
export type MemberInput = { recipientType?: string; recipientId: string; name?: string; email?: string; phone?: string; variables?: Json };
export type MemberKey = { recipientType?: string; recipientId: string };
export type Member = { recipientType: string; recipientId: string; name: string | null; email: string | null; phone: string | null; variables: Json | null; createdAt: Timestamp | null };
/** Members in recipient order; pass `next` back as `after`. */
export type MemberPage = { results: Member[]; next: string | null };
export type MembersAdded = { received: number; duplicates: number; added: number; updated: number; members: number };
export type MembersRemoved = { removed: number; members: number };
export type Subscription = { subscribed: boolean; audienceId: string; recipientType: string; recipientId: string };

export type CampaignMessage = { templateId?: string; templateCode?: string; subject?: string; content?: string };
export type CreateCampaign = CampaignMessage & {
  name: string;
  audienceId: string;
  channel: Channel | "auto";
  type?: string;
  /** Two to ten variants for an A/B test, instead of one message. */
  variants?: (CampaignMessage & { name: string })[];
  testPercent?: number;
  testDurationMinutes?: number;
  winnerMetric?: "opened" | "clicked" | "delivered";
  templateVariables?: Json;
  scheduledAt?: Timestamp;
  /** Messages per minute. */
  sendRate?: number;
};
type Counts = { targeted: number; queued: number; sent: number; delivered: number; opened: number; clicked: number; bounced: number; suppressed: number; failed: number; cancelled: number };
export type Campaign = {
  id: string;
  name: string;
  audienceId: string;
  channel: Channel | "auto";
  type: string;
  status: string;
  phase: string;
  variants: (CampaignMessage & { name: string })[];
  templateVariables: Json | null;
  sendRate: number | null;
  scheduledAt: Timestamp | null;
  abTest: { testPercent: number; testDurationMinutes: number | null; winnerMetric: string; winner: string | null; pickedBy: string | null; testEndsAt: Timestamp | null } | null;
  lastError: string | null;
  startedAt: Timestamp | null;
  completedAt: Timestamp | null;
  cancelledAt: Timestamp | null;
  createdAt: Timestamp | null;
  updatedAt: Timestamp | null;
};
/** One campaign with its progress and per-variant results. */
export type CampaignDetail = Campaign & {
  progress: Counts & { members: number | null; processed: number; skipped: number };
  results: (Counts & { variant: string; rates: { delivered: number; opened: number; clicked: number } })[];
};

export type Conversation = {
  id: string;
  channel: Channel;
  contact: string;
  ourAddress: string | null;
  recipientType: string | null;
  recipientId: string | null;
  communicationId: string | null;
  unreadCount: number;
  lastInboundAt: Timestamp | null;
  lastMessageAt: Timestamp | null;
  /** WhatsApp: until when free text may be sent (24 hours after the customer's last message). */
  windowOpenUntil?: Timestamp | null;
  createdAt: Timestamp | null;
  updatedAt: Timestamp | null;
};
export type ConversationListQuery = { channel?: Channel; recipientType?: string; recipientId?: string; unread?: "true" | "false"; updatedSince?: Timestamp; cursor?: string; limit?: number };
export type ConversationMessage = {
  id: string;
  conversationId: string;
  /** `inbound` or `outbound`. */
  direction: string;
  text: string | null;
  subject: string | null;
  button: unknown;
  media: ConversationMedia[];
  keyword: string | null;
  communicationId: string | null;
  inReplyToCommunicationId: string | null;
  providerMessageId: string | null;
  at: Timestamp | null;
};
/**
 * A medium an inbound message carried; `downloadUrl` (an API path) when Herald stored a copy,
 * `pending` while Herald is still fetching one the provider only linked to.
 */
export type ConversationMedia = { contentType: string; size: number; filename?: string; url?: string; stored: boolean; pending?: true; downloadUrl?: string; error?: string };
export type MessageListQuery = { cursor?: string; limit?: number };
export type WhatsappTemplateRef = { name: string; language: string; components?: Record<string, unknown>[] };
export type ReplyRequest = { content?: string; templateCode?: string; data?: Json; subject?: string; whatsappTemplate?: WhatsappTemplateRef };
export type Reply = { conversationId: string; communication: Communication; reason?: string | null };

export type RegisterDevice = {
  platform: "ios" | "android" | "web";
  /** An FCM registration token (default) or, with transport "apns", an APNs device token. */
  token?: string;
  transport?: "fcm" | "apns";
  /** A browser's Web Push subscription, as `PushSubscription.toJSON()` gives it. */
  subscription?: { endpoint: string; keys: { p256dh: string; auth: string }; expirationTime?: number | null };
};
export type Device = {
  id: string;
  recipientType: string;
  recipientId: string;
  platform: "ios" | "android" | "web";
  transport: "fcm" | "apns" | "webpush";
  endpoint?: string;
  token?: string;
  createdAt: Timestamp | null;
  lastSeenAt: Timestamp | null;
};

export type RecipientExport = {
  recipient: { type: string; id: string };
  exportedAt: Timestamp;
  preferences: Json | null;
  consents: Json[];
  communications: (Communication & { events: TimelineEntry[] })[];
  suppressions: Json[];
  devices: Device[];
  inbox: unknown;
  /** Threads linked to the recipient or with one of their contacts, with their messages. */
  conversations: (Conversation & { messages: ConversationMessage[] })[];
  truncated: boolean;
};
export type RecipientErased = {
  erased: { communications: number; conversations: number; conversationMedia: number; consents: number; suppressions: number; devices: number; inboxItems: number; preferences: boolean };
  at: Timestamp;
};

export type AuditEntry = {
  id: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  actor: { type: string; id: string | null; name: string | null };
  detail: Json;
  requestId: string | null;
  createdAt: Timestamp;
};
export type AuditQuery = { action?: string; resourceType?: string; since?: Timestamp; until?: Timestamp; cursor?: string; limit?: number };

export type Usage = {
  period: string;
  periodStart: string;
  resetsAt: string;
  channels: { channel: Channel; used: number; quota: number | null; remaining: number | null }[];
  rateLimit: { perSecond: number; burst: number };
};

/** A signed, expiring link to the hosted preference center (docs/preference-center.md). */
export type PreferenceLink = { url: string; expiresAt: Timestamp };

/** What an API key may do (`*`: everything); test/client-types.test.ts keeps this list the server's. */
export type Scope =
  | "*"
  | "communications:send"
  | "communications:read"
  | "stats:read"
  | "templates:read"
  | "templates:write"
  | "preferences:read"
  | "preferences:write"
  | "providers:read"
  | "providers:write"
  | "suppressions:read"
  | "suppressions:write"
  | "webhooks:read"
  | "webhooks:write"
  | "settings:read"
  | "settings:write"
  | "inbox:tokens"
  | "automation:read"
  | "automation:write"
  | "recipients:read"
  | "recipients:erase"
  | "devices:write"
  | "audit:read"
  | "audiences:read"
  | "audiences:write"
  | "campaigns:read"
  | "campaigns:write"
  | "workflows:read"
  | "workflows:write"
  | "conversations:read"
  | "conversations:write"
  | "keys:manage";

export type ApiKey = {
  id: string;
  name: string;
  /** The secret's first characters, to tell keys apart; the secret itself is shown once. */
  prefix: string;
  scopes: Scope[];
  createdAt: Timestamp;
  expiresAt: Timestamp | null;
  lastUsedAt: Timestamp | null;
  revokedAt: Timestamp | null;
};
export type ApiKeyList = { results: (ApiKey & { current: boolean })[]; grantableScopes: Scope[] };
export type CreateApiKey = { name?: string; scopes?: Scope[]; expiresInHours?: number };
export type RotateApiKey = { overlapHours?: number };
/** The secret (`apiKey`) is in this answer only. */
export type IssuedApiKey = ApiKey & { apiKey: string };
export type RotatedApiKey = IssuedApiKey & { replaces: { id: string; expiresAt: Timestamp } };
export type RevokedApiKey = ApiKey & { revokedCallingKey: boolean; detail?: string };
