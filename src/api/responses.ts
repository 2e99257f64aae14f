/**
 * What the main routes answer, as zod output schemas: the OpenAPI document's response schemas
 * (through `z.toJSONSchema`, src/api/openapi/document.ts), so `/openapi.json` says what comes back.
 * They sit apart from the DTO functions (src/api/dto.ts and the routes) because those build plain
 * objects; test/client-types.test.ts checks at compile time that each DTO's return type fits its
 * schema here, and the client tests check real answers against them (test/documented-responses.ts) and against
 * the served document (test/docs/client-package.test.ts).
 */
import { z } from "zod";
import { CHANNELS, PRIORITIES } from "../domain";
import { PROVIDER_KINDS } from "../channels/kinds";
import { SUPPRESSION_REASONS } from "../channels/types";
import { RUN_STATUSES, RUN_STEP_STATUSES } from "../db/schema/workflows";
import { StepSchema } from "../workflows/definition";

const Channel = z.enum(CHANNELS);
const at = z.iso.datetime();
const when = at.nullable();
const text = z.string().nullable();
const json = z.record(z.string(), z.unknown());
const results = <T extends z.ZodType>(item: T) => z.object({ results: z.array(item) });
/** `sending` is internal: a claimed message is shown `queued`. */
const Status = z.enum(["scheduled", "queued", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed", "cancelled"]);

export const ProblemOut = z
  .object({
    type: z.url(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ examples: ["validation_failed"] }),
    detail: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: "RFC 9457 problem details; every error has this shape and carries the request id." });

export const CommunicationOut = z.object({
  id: z.string(),
  tenantId: z.string(),
  channel: Channel,
  type: z.string(),
  status: Status,
  priority: z.enum(PRIORITIES),
  recipientType: z.string(),
  recipientId: text,
  recipientName: text,
  recipientContact: z.string(),
  subject: text,
  content: z.string(),
  entityType: text,
  entityId: text,
  templateId: text,
  templateVersion: z.number().int().nullable(),
  locale: text,
  templateVariables: json.nullable(),
  attachments: z.array(z.object({ filename: z.string(), mimeType: text, size: z.number().nullable(), source: z.enum(["stored", "inline", "url"]), fileUrl: z.string().optional() })),
  metadata: json.nullable(),
  scheduledAt: when,
  sentAt: when,
  deliveredAt: when,
  openedAt: when,
  clickedAt: when,
  bouncedAt: when,
  failedAt: when,
  cancelledAt: when,
  errorMessage: text,
  provider: text,
  providerConfigId: text,
  providerMessageId: text,
  cost: z.object({ amount: z.number(), micros: z.number().int(), currency: text }).nullable(),
  openCount: z.number().int(),
  clickCount: z.number().int(),
  retryCount: z.number().int(),
  maxRetries: z.number().int(),
  nextRetryAt: when,
  originalCommunicationId: text,
  workflowRunId: text,
  workflowStepId: text,
  createdBy: text,
  createdAt: when,
  updatedAt: when,
});

export const TimelineEntryOut = z.object({
  at: when,
  kind: z.string(),
  status: text,
  provider: text.optional(),
  providerConfigId: text.optional(),
  httpStatus: z.number().int().nullable().optional(),
  error: text.optional(),
  latencyMs: z.number().nullable().optional(),
  detail: z.unknown(),
});
export const CommunicationDetailOut = CommunicationOut.extend({ events: z.array(TimelineEntryOut) });
export const CommunicationPageOut = z.object({ results: z.array(CommunicationOut), count: z.number().int(), page: z.number().int(), size: z.number().int() });

export const AcceptedOut = z.object({ id: z.string(), channel: Channel, status: z.string(), estimatedSendTime: at, reason: text.optional() });
export const SendResultOut = z.union([
  AcceptedOut.extend({ communication: CommunicationOut }),
  z.object({ results: z.array(AcceptedOut), communications: z.array(CommunicationOut) }),
]);

const content = { subjectTemplate: text, bodyTemplate: text, htmlTemplate: text, textTemplate: text };
export const TemplateOut = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  description: text,
  channel: Channel,
  type: z.string(),
  locale: z.string(),
  availableVariables: z.array(z.string()).nullable(),
  isActive: z.boolean(),
  isSystem: z.boolean(),
  version: z.number().int(),
  ...content,
  createdAt: when,
  updatedAt: when,
});
export const TemplateWrittenOut = TemplateOut.extend({ warnings: z.array(z.string()) });

export const ProviderOut = z.object({
  id: z.string(),
  channel: Channel,
  provider: z.enum(PROVIDER_KINDS),
  priority: z.number().int(),
  enabled: z.boolean(),
  settings: json,
  credentials: z.literal("[encrypted]"),
  webhookUrl: text,
  health: z.object({ failureStreak: z.number().int(), silentStreak: z.number().int(), breakerOpenUntil: when }),
  createdAt: when,
  updatedAt: when,
});

const quietHours = z.object({ start: z.string(), end: z.string() }).nullable();
export const PreferencesOut = z.object({
  entityType: z.string(),
  entityId: z.string(),
  exists: z.boolean(),
  emailEnabled: z.boolean(),
  smsEnabled: z.boolean(),
  whatsappEnabled: z.boolean(),
  messengerEnabled: z.boolean(),
  pushEnabled: z.boolean(),
  inAppEnabled: z.boolean(),
  slackEnabled: z.boolean(),
  teamsEnabled: z.boolean(),
  discordEnabled: z.boolean(),
  telegramEnabled: z.boolean(),
  preferences: z.record(z.string(), z.array(Channel)),
  preferredEmail: text,
  preferredPhone: text,
  preferredWhatsapp: text,
  preferredMessengerId: text,
  preferredSlack: text,
  preferredTeams: text,
  preferredDiscord: text,
  preferredTelegram: text,
  marketingUnsubscribed: z.array(Channel),
  optedOutAt: when,
  optedOutReason: text,
  locale: text,
  timezone: text,
  quietHours,
  updatedAt: when,
});

export const SuppressionOut = z.object({
  channel: Channel,
  contact: z.string(),
  reason: z.string().meta({ examples: [...SUPPRESSION_REASONS] }),
  detail: text,
  source: z.string(),
  communicationId: text,
  createdAt: at,
});

export const WebhookEndpointOut = z.object({ id: z.string(), url: z.string(), description: text, eventTypes: z.array(z.string()), enabled: z.boolean(), createdAt: at, updatedAt: at });
export const CreatedWebhookEndpointOut = WebhookEndpointOut.extend({ secret: z.string().meta({ description: "The signing secret, shown only here." }) });

// Steps as the workflow definition validates them (src/workflows/definition.ts), one recursive schema.
const steps = z.array(StepSchema);
export const WorkflowOut = z.object({
  key: z.string(),
  name: z.string(),
  description: text,
  version: z.number().int(),
  steps,
  triggerEvents: z.array(z.string()),
  createdAt: when,
  updatedAt: when,
});
export const WorkflowRunOut = z.object({
  id: z.string(),
  workflowKey: z.string(),
  version: z.number().int(),
  status: z.enum(RUN_STATUSES),
  recipient: z.object({ type: z.string(), id: text }),
  data: json,
  actor: z.object({ type: z.string(), id: z.string(), name: z.string().optional() }).nullable(),
  cancellationKey: text,
  cancelReason: text,
  createdAt: when,
  updatedAt: when,
  finishedAt: when,
  steps: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      status: z.enum(RUN_STEP_STATUSES),
      outcome: text,
      startedAt: when,
      finishedAt: when,
      output: z.unknown(),
      communicationIds: z.array(z.string()).nullable(),
    }),
  ),
});
export const WorkflowRunPageOut = z.object({ results: z.array(WorkflowRunOut), nextCursor: text });

export const ConversationOut = z.object({
  id: z.string(),
  channel: Channel,
  contact: z.string(),
  ourAddress: text,
  recipientType: text,
  recipientId: text,
  communicationId: text,
  unreadCount: z.number().int(),
  lastInboundAt: when,
  lastMessageAt: when,
  windowOpenUntil: when.optional().meta({ description: "WhatsApp only: until when free text may be sent." }),
  createdAt: when,
  updatedAt: when,
});
export const ConversationPageOut = z.object({ results: z.array(ConversationOut), nextCursor: text });
export const MessageOut = z.object({
  id: z.string(),
  conversationId: z.string(),
  direction: z.string().meta({ description: "inbound or outbound" }),
  text,
  subject: text,
  button: z.unknown(),
  media: z.array(
    z.object({
      contentType: z.string(),
      size: z.number().int(),
      filename: z.string().optional(),
      url: z.string().optional().meta({ description: "the provider's link, when it gave one" }),
      stored: z.boolean().meta({ description: "a copy is in Herald's storage (R2)" }),
      pending: z.literal(true).optional().meta({ description: "the provider only linked to it and Herald is still fetching it: no downloadUrl yet, and message.received waits for it" }),
      downloadUrl: z.string().optional().meta({ description: "API path that downloads the stored copy (conversations:read), once stored" }),
      error: z.string().optional().meta({ description: "why the medium could not be fetched" }),
    }),
  ),
  keyword: text,
  communicationId: text,
  inReplyToCommunicationId: text,
  providerMessageId: text,
  at: when,
});
export const MessagePageOut = z.object({ results: z.array(MessageOut), nextCursor: text });
export const ReplyOut = z.object({ conversationId: z.string(), communication: CommunicationOut, reason: text.optional() });

export const AudienceOut = z.object({ id: z.string(), kind: z.enum(["list", "topic"]), name: z.string(), description: text, members: z.number().int().optional(), createdAt: when, updatedAt: when });

const variant = z.object({ name: z.string(), templateId: z.string().optional(), templateCode: z.string().optional(), subject: z.string().optional(), content: z.string().optional() });
const counts = {
  targeted: z.number(),
  queued: z.number(),
  sent: z.number(),
  delivered: z.number(),
  opened: z.number(),
  clicked: z.number(),
  bounced: z.number(),
  suppressed: z.number(),
  failed: z.number(),
  cancelled: z.number(),
};
export const CampaignOut = z.object({
  id: z.string(),
  name: z.string(),
  audienceId: z.string(),
  channel: z.union([Channel, z.literal("auto")]),
  type: z.string(),
  status: z.string(),
  phase: z.string(),
  variants: z.array(variant),
  templateVariables: json.nullable(),
  sendRate: z.number().nullable(),
  scheduledAt: when,
  abTest: z
    .object({ testPercent: z.number(), testDurationMinutes: z.number().nullable(), winnerMetric: z.string(), winner: text, pickedBy: text, testEndsAt: when })
    .nullable(),
  lastError: text,
  startedAt: when,
  completedAt: when,
  cancelledAt: when,
  createdAt: when,
  updatedAt: when,
});
export const CampaignDetailOut = CampaignOut.extend({
  progress: z.object({ members: z.number().nullable(), processed: z.number(), skipped: z.number(), ...counts }),
  results: z.array(z.object({ variant: z.string(), ...counts, rates: z.object({ delivered: z.number(), opened: z.number(), clicked: z.number() }) })),
});

/** Component name → schema, for the document's `components.schemas`. */
export const RESPONSE_SCHEMAS = {
  Communication: CommunicationOut,
  CommunicationDetail: CommunicationDetailOut,
  CommunicationPage: CommunicationPageOut,
  SendResult: SendResultOut,
  Template: TemplateOut,
  TemplateWritten: TemplateWrittenOut,
  TemplateList: results(TemplateOut),
  Provider: ProviderOut,
  ProviderList: results(ProviderOut),
  Preferences: PreferencesOut,
  Suppression: SuppressionOut,
  SuppressionPage: z.object({ results: z.array(SuppressionOut), page: z.number().int(), size: z.number().int() }),
  WebhookEndpoint: WebhookEndpointOut,
  CreatedWebhookEndpoint: CreatedWebhookEndpointOut,
  WebhookEndpointList: results(WebhookEndpointOut),
  Workflow: WorkflowOut,
  // Its own component: the step tree refers to itself (branches, waits), so it needs a name to point at.
  WorkflowStep: StepSchema,
  WorkflowList: results(WorkflowOut),
  WorkflowRun: WorkflowRunOut,
  WorkflowRunPage: WorkflowRunPageOut,
  Conversation: ConversationOut,
  ConversationPage: ConversationPageOut,
  MessagePage: MessagePageOut,
  Reply: ReplyOut,
  Audience: AudienceOut,
  AudienceList: results(AudienceOut),
  Campaign: CampaignOut,
  CampaignDetail: CampaignDetailOut,
  CampaignPage: z.object({ results: z.array(CampaignOut), count: z.number().int(), page: z.number().int(), size: z.number().int() }),
  Problem: ProblemOut,
} satisfies Record<string, z.ZodType>;
export type ResponseName = keyof typeof RESPONSE_SCHEMAS;
