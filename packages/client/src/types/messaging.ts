/** Templates, providers, preferences, suppressions, webhook endpoints, settings, inbox tokens. */
import type { Channel, Json, Timestamp } from "./common.js";

export type TemplateContent = { subjectTemplate: string | null; bodyTemplate: string | null; htmlTemplate: string | null; textTemplate: string | null };
export type Template = TemplateContent & {
  id: string;
  code: string;
  name: string;
  description: string | null;
  channel: Channel;
  type: string;
  locale: string;
  availableVariables: string[] | null;
  isActive: boolean;
  /** Herald's own templates: read-only, overridden by one of the tenant's with the same code. */
  isSystem: boolean;
  version: number;
  createdAt: Timestamp | null;
  updatedAt: Timestamp | null;
};
/** Creating or changing a template also reports variables used but not declared. */
export type TemplateWritten = Template & { warnings: string[] };
export type CreateTemplate = {
  name: string;
  code: string;
  description?: string;
  channel: Channel;
  type: string;
  locale?: string;
  subjectTemplate?: string;
  bodyTemplate?: string;
  htmlTemplate?: string;
  textTemplate?: string;
  availableVariables?: string[];
  isActive?: boolean;
};
export type UpdateTemplate = {
  name?: string;
  description?: string | null;
  type?: string;
  subjectTemplate?: string | null;
  bodyTemplate?: string | null;
  htmlTemplate?: string | null;
  textTemplate?: string | null;
  availableVariables?: string[] | null;
  isActive?: boolean;
};
export type TemplateListQuery = { channel?: Channel; type?: string; code?: string; isActive?: "true" | "false" };
export type TemplateVersion = TemplateContent & { version: number; active: boolean; createdBy?: string | null; createdAt: Timestamp | null };
export type PreviewRequest = { variables?: Json; locale?: string };
export type Preview = {
  subject: string | null;
  body: string;
  html: string | null;
  text: string | null;
  warnings: string[];
  /** SMS templates: how the text is encoded and how many segments it costs. */
  sms?: { encoding: string; segments: number; characters: number };
};

export type ProviderKind = "sendgrid" | "twilio" | "sandbox" | "mailgun" | "ses" | "postmark" | "resend" | "vonage" | "meta_whatsapp" | "meta_messenger" | "fcm" | "apns" | "webpush" | "slack" | "teams" | "discord" | "telegram";
export type Provider = {
  id: string;
  channel: Channel;
  provider: ProviderKind;
  priority: number;
  enabled: boolean;
  settings: Json;
  /** Write-only: always shown as "[encrypted]". */
  credentials: "[encrypted]";
  /** Where the provider posts receipts, when it does. */
  webhookUrl: string | null;
  health: { failureStreak: number; silentStreak: number; breakerOpenUntil: Timestamp | null };
  createdAt: Timestamp | null;
  updatedAt: Timestamp | null;
};
export type CreateProvider = { channel: Channel; provider: ProviderKind; priority?: number; credentials?: Json; settings?: Json; enabled?: boolean };
export type UpdateProvider = { priority?: number; credentials?: Json; settings?: Json; enabled?: boolean };

export type QuietHours = { start: string; end: string };
export type Preferences = {
  entityType: string;
  entityId: string;
  /** False: nothing is stored for this recipient yet; these are the defaults. */
  exists: boolean;
  emailEnabled: boolean;
  smsEnabled: boolean;
  whatsappEnabled: boolean;
  messengerEnabled: boolean;
  pushEnabled: boolean;
  inAppEnabled: boolean;
  slackEnabled: boolean;
  teamsEnabled: boolean;
  discordEnabled: boolean;
  telegramEnabled: boolean;
  /** Per message type, the channels allowed for it. */
  preferences: Record<string, Channel[]>;
  preferredEmail: string | null;
  preferredPhone: string | null;
  preferredWhatsapp: string | null;
  preferredMessengerId: string | null;
  /** A Slack channel or user id, or an incoming-webhook URL. */
  preferredSlack: string | null;
  /** A Teams incoming-webhook / Workflows URL. */
  preferredTeams: string | null;
  /** A Discord webhook URL. */
  preferredDiscord: string | null;
  /** A Telegram chat id or `@channel`. */
  preferredTelegram: string | null;
  marketingUnsubscribed: Channel[];
  optedOutAt: Timestamp | null;
  optedOutReason: string | null;
  locale: string | null;
  timezone: string | null;
  quietHours: QuietHours | null;
  updatedAt: Timestamp | null;
};
export type PatchPreferences = {
  emailEnabled?: boolean | null;
  smsEnabled?: boolean | null;
  whatsappEnabled?: boolean | null;
  messengerEnabled?: boolean | null;
  pushEnabled?: boolean | null;
  inAppEnabled?: boolean | null;
  slackEnabled?: boolean | null;
  teamsEnabled?: boolean | null;
  discordEnabled?: boolean | null;
  telegramEnabled?: boolean | null;
  /** Merged by type; a type set to null goes back to "any channel". */
  preferences?: Record<string, Channel[] | null>;
  preferredEmail?: string | null;
  preferredPhone?: string | null;
  preferredWhatsapp?: string | null;
  preferredMessengerId?: string | null;
  preferredSlack?: string | null;
  preferredTeams?: string | null;
  preferredDiscord?: string | null;
  preferredTelegram?: string | null;
  optedOut?: boolean;
  optedOutReason?: string | null;
  locale?: string | null;
  timezone?: string | null;
  quietHours?: QuietHours | null;
};
export type ConsentInput = { channel: Channel; scope?: "all" | "marketing"; status: "granted" | "revoked"; source: string; ip?: string; userAgent?: string };
export type Consent = {
  id: string;
  entityType: string;
  entityId: string;
  channel: Channel;
  scope: "all" | "marketing";
  status: "granted" | "revoked";
  source: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: Timestamp;
};

export type SuppressionReason = "bounce" | "complaint" | "unsubscribe" | "opt_out" | "invalid" | "manual";
export type Suppression = {
  channel: Channel;
  contact: string;
  /** One of SuppressionReason for suppressions Herald records. */
  reason: string;
  detail: string | null;
  source: string;
  communicationId: string | null;
  createdAt: Timestamp;
};
export type AddSuppression = { channel: Channel; contact: string; reason?: SuppressionReason; detail?: string };
export type SuppressionListQuery = { channel?: Channel; contact?: string; page?: number; size?: number };
export type SuppressionPage = { results: Suppression[]; page: number; size: number };

export type WebhookEndpoint = {
  id: string;
  url: string;
  description: string | null;
  /** Event types it receives; `*` for all. */
  eventTypes: string[];
  enabled: boolean;
  createdAt: Timestamp;
  updatedAt: Timestamp;
};
/** The signing secret is shown once, when the endpoint is created. */
export type CreatedWebhookEndpoint = WebhookEndpoint & { secret: string };
export type CreateWebhookEndpoint = { url: string; eventTypes?: string[]; description?: string; enabled?: boolean };
export type UpdateWebhookEndpoint = { url?: string; eventTypes?: string[]; description?: string | null; enabled?: boolean };
export type WebhookDelivery = {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  payload: unknown;
  createdAt: Timestamp;
  updatedAt: Timestamp;
};

type ProviderChannel = Exclude<Channel, "in_app">;
export type Settings = {
  tracking: "provider" | "herald" | "off";
  retentionDays: number | null;
  receiptWindows: Record<string, number>;
  routing: Record<string, "priority" | "weighted">;
  encryptContacts: boolean;
  preferences: { requiredTypes: string[]; marketingTypes: string[]; timezone: string; quietHours: QuietHours | null };
  conversations: { helpText: string | null; keywords: { keyword: string; event: string }[]; replyDomain: string | null };
  /** What the hosted preference center shows: the tenant's name, logo (https) and colour (`#rrggbb`). */
  branding: { name: string | null; logoUrl: string | null; primaryColor: string | null };
};
export type PatchSettings = {
  tracking?: "provider" | "herald" | "off";
  retentionDays?: number | null;
  receiptWindows?: Record<string, number>;
  encryptContacts?: boolean;
  routing?: Partial<Record<ProviderChannel, "priority" | "weighted">>;
  preferences?: { timezone?: string; quietHours?: QuietHours | null; requiredTypes?: string[]; marketingTypes?: string[] };
  conversations?: { helpText?: string; keywords?: { keyword: string; event: string }[]; replyDomain?: string };
  /** `null` clears a field. */
  branding?: { name?: string | null; logoUrl?: string | null; primaryColor?: string | null };
};

export type MintInboxToken = { recipientType?: string; recipientId: string; ttlSeconds?: number };
export type InboxToken = { token: string; expiresAt: Timestamp; recipientType: string; recipientId: string };
