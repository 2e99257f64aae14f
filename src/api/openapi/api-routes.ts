/** The catalog of the tenant API (`/api/*`, API key): every route, with the schemas it validates with. */
import { z } from "zod";
import { group, type RouteDoc } from "./types";
import { CreateProvider, UpdateProvider } from "../routes/providers";
import { MAX_BATCH } from "../routes/send";
import { ListQuery as CommunicationListQuery, ResendRequest } from "../routes/communications";
import { StatsQuery } from "../routes/stats";
import { CreateTemplate, Preview, TemplateListQuery, UpdateTemplate } from "../routes/templates";
import { AddSuppression, SuppressionListQuery } from "../routes/suppressions";
import { CreateEndpoint, DeliveriesQuery, UpdateEndpoint } from "../routes/webhooks";
import { Settings } from "../routes/settings";
import { ConsentRecord, PatchPreferences } from "../routes/preferences";
import { LinkQuery } from "../routes/preference-link";
import { MintToken } from "../routes/inbox";
import { ListQuery as EventListQuery } from "../routes/events";
import { FromPreset, Overrides } from "../routes/triggers";
import { CreateReminder, ListQuery as ReminderListQuery } from "../routes/reminders";
import { AuditQuery } from "../routes/audit-log";
import { Register as RegisterDevice } from "../routes/devices";
import { CreateAudience, MemberPage } from "../routes/audiences";
import { ListQuery as CampaignListQuery, Winner } from "../routes/campaigns";
import { AddMembers, MemberInput, MemberKeyInput, RemoveMembers } from "../../campaigns/members";
import { CreateCampaign } from "../../campaigns/create";
import { SendRequest } from "../../pipeline/send-request";
import { BusinessEventInput } from "../../automation/event";
import { TriggerRuleInput } from "../../automation/rule";
import { CancelRun, CancelRuns, CreateWorkflowDoc, RunsQuery, TriggerInput } from "../routes/workflows";
import { CopyTemplate } from "../routes/workflow-templates";
import { WorkflowDefinition } from "../../workflows/definition";
import { ConversationListQuery, MessageListQuery, ReplyRequest } from "../routes/conversations";
import { CreateKey, RotateKey } from "../keys";

const sendExample = { channel: "email", recipientContact: "ada@example.com", subject: "Your invoice", content: "<p>Hello Ada, your invoice is ready.</p>", type: "invoice" };

const comms = group("Communications", "apiKey");
const templates = group("Templates", "apiKey");
const providers = group("Providers", "apiKey");
const prefs = group("Preferences", "apiKey");
const account = group("Account", "apiKey");
const automation = group("Automation", "apiKey");
const privacy = group("Privacy", "apiKey");
const marketing = group("Audiences and campaigns", "apiKey");
const journeys = group("Workflows", "apiKey");
const journeySteps = [
  { type: "send", id: "notify", channel: "in_app", content: "Invoice {{number}} is ready" },
  { type: "wait_for_event", id: "paid", event: "invoice.paid", timeout: "7d", onTimeout: [{ type: "send", id: "remind", channel: "auto", channels: ["email", "sms"], templateCode: "invoice_reminder" }] },
];
const talk = group("Conversations", "apiKey");
const member = { recipientType: "customer", recipientId: "c1", name: "Ada", email: "ada@example.com" };

export const API_ROUTES: RouteDoc[] = [
  talk("GET /api/conversations", "List conversations (threads of inbound messages), latest activity first", { query: ConversationListQuery }),
  talk("GET /api/conversations/:id", "A conversation with its unread count (and WhatsApp window)"),
  talk("GET /api/conversations/:id/messages", "A conversation's messages, inbound and outbound, oldest first", { query: MessageListQuery }),
  talk("GET /api/conversations/:id/messages/:messageId/media/:n", "Download a message's stored medium (its index in the message's media list)", {
    description: "Served as an attachment with the medium's type. A medium that could not be fetched from the provider is a 404 saying why.",
    success: { status: 200, description: "The medium's bytes.", contentType: "application/octet-stream" },
  }),
  talk("POST /api/conversations/:id/read", "Mark a conversation read", { success: { status: 200 } }),
  talk("POST /api/conversations/:id/reply", "Reply in the thread through the normal send pipeline", {
    description: "WhatsApp: free text only within 24 hours of the customer's last message; outside it give `templateCode` or `whatsappTemplate` (422 naming `templateCode` otherwise).",
    body: { name: "ReplyRequest", schema: ReplyRequest, example: { content: "Yes, next week is fine." } },
  }),
  comms("POST /api/communications/send", "Send a communication", {
    description: "Content or a template, to a contact or to a recipient routed by preferences. Honors `Idempotency-Key`.",
    body: { name: "SendRequest", schema: SendRequest, example: sendExample },
  }),
  comms("POST /api/communications/batch", "Send up to 1,000 communications", {
    description: "Each item is a SendRequest, validated on its own: the answer lists what was accepted and what was refused, by index.",
    // The route checks the envelope, then each item against SendRequest: the same two checks, as one schema.
    body: { name: "BatchRequest", schema: z.object({ items: z.array(SendRequest).min(1).max(MAX_BATCH) }).strict(), example: { items: [sendExample, { channel: "sms", recipientContact: "+14155550123", content: "Your code is 123456", type: "otp" }] } },
  }),
  comms("POST /api/communications/send/dry-run", "Check and render a send without making it", {
    description: "The send's validation, planning (preferences, quiet hours) and rendering, answered with what would be stored. Nothing is written, enqueued or charged to the quota.",
    body: { name: "SendRequest", schema: SendRequest, example: sendExample },
    success: { status: 200 },
  }),
  comms("GET /api/communications", "List communications (history)", { query: CommunicationListQuery }),
  comms("GET /api/communications/stats", "Delivery statistics over a period", { query: StatsQuery }),
  comms("GET /api/communications/:id", "A communication with its event timeline"),
  comms("POST /api/communications/:id/resend", "Send a communication again (optionally on another channel or contact)", {
    body: { name: "ResendRequest", schema: ResendRequest, example: { recipientContact: "ada.backup@example.com" }, required: false },
  }),
  comms("POST /api/communications/:id/cancel", "Cancel a scheduled or queued communication", { success: { status: 200 } }),

  templates("POST /api/communication-templates", "Create a template", {
    body: { name: "CreateTemplate", schema: CreateTemplate, example: { name: "Order shipped", code: "order_shipped", channel: "sms", type: "order_update", locale: "en", bodyTemplate: "Hi {{name}}, order {{orderId}} has shipped.", availableVariables: ["name", "orderId"] } },
  }),
  templates("GET /api/communication-templates", "List templates (the tenant's and the system's)", { query: TemplateListQuery }),
  templates("GET /api/communication-templates/:id", "A template"),
  templates("PATCH /api/communication-templates/:id", "Update a template (a content change makes a new version)", {
    body: { name: "UpdateTemplate", schema: UpdateTemplate, example: { bodyTemplate: "Hi {{name}}, your order {{orderId}} is on its way." } },
  }),
  templates("DELETE /api/communication-templates/:id", "Delete a template"),
  templates("GET /api/communication-templates/:id/versions", "A template's versions"),
  templates("POST /api/communication-templates/:id/versions/:version/activate", "Make an earlier version active (rollback)", { success: { status: 200 }, params: { version: "1" } }),
  templates("POST /api/communication-templates/:id/preview", "Render a template with variables (SMS: segment count)", {
    success: { status: 200 },
    body: { name: "TemplatePreview", schema: Preview, example: { variables: { name: "Ada", orderId: "A-1001" } } },
  }),

  providers("POST /api/providers", "Add a provider config (credentials are write-only)", {
    body: { name: "CreateProvider", schema: CreateProvider, example: { channel: "email", provider: "sandbox", priority: 1 } },
  }),
  providers("GET /api/providers", "List provider configs"),
  providers("GET /api/providers/kinds", "Each provider kind's channels and its credential and settings fields (from the validation schemas)"),
  providers("GET /api/providers/:id", "A provider config"),
  providers("PATCH /api/providers/:id", "Update a provider config", { body: { name: "UpdateProvider", schema: UpdateProvider, example: { priority: 2, enabled: true } } }),
  providers("DELETE /api/providers/:id", "Delete a provider config"),

  prefs("GET /api/communication-preferences/:entityType/:entityId", "A recipient's preferences", { params: { entityType: "customer", entityId: "c1" } }),
  prefs("PATCH /api/communication-preferences/:entityType/:entityId", "Change a recipient's preferences (only the fields given)", {
    params: { entityType: "customer", entityId: "c1" },
    body: { name: "PatchPreferences", schema: PatchPreferences, example: { smsEnabled: false, preferredEmail: "ada@example.com", timezone: "Europe/London", quietHours: { start: "22:00", end: "07:00" } } },
  }),
  prefs("GET /api/recipients/:type/:id/preference-link", "Mint a signed, expiring link to the recipient's hosted preference center", {
    params: { type: "customer", id: "c1" },
    query: LinkQuery,
    description: "Answers `{ url, expiresAt }`; `expiresIn` is in seconds (default 30 days, at most 90). Needs `preferences:write`: the link lets its holder change the recipient's preferences. See docs/preference-center.md.",
  }),
  prefs("GET /api/communication-preferences/:entityType/:entityId/consents", "A recipient's consent records", { params: { entityType: "customer", entityId: "c1" } }),
  prefs("POST /api/communication-preferences/:entityType/:entityId/consents", "Record consent given or withdrawn", {
    params: { entityType: "customer", entityId: "c1" },
    body: { name: "ConsentRecord", schema: ConsentRecord, example: { channel: "email", scope: "marketing", status: "granted", source: "signup_form" } },
  }),
  prefs("GET /api/suppressions", "List suppressed contacts", { query: SuppressionListQuery }),
  prefs("POST /api/suppressions", "Suppress a contact", { body: { name: "AddSuppression", schema: AddSuppression, example: { channel: "email", contact: "bounced@example.com", reason: "manual" } } }),
  prefs("DELETE /api/suppressions/:channel/:contact", "Lift a suppression", { params: { channel: "email", contact: "bounced@example.com" } }),

  account("POST /api/webhooks", "Register a webhook endpoint (the signing secret is shown once)", {
    body: { name: "CreateWebhookEndpoint", schema: CreateEndpoint, example: { url: "https://hooks.acme.test/herald", eventTypes: ["*"], description: "status changes" } },
  }),
  account("GET /api/webhooks", "List webhook endpoints"),
  account("GET /api/webhooks/:id", "A webhook endpoint"),
  account("PATCH /api/webhooks/:id", "Update a webhook endpoint", { body: { name: "UpdateWebhookEndpoint", schema: UpdateEndpoint, example: { enabled: false } } }),
  account("DELETE /api/webhooks/:id", "Delete a webhook endpoint"),
  account("GET /api/webhooks/:id/deliveries", "Recent deliveries to an endpoint", { query: DeliveriesQuery }),
  account("POST /api/webhooks/:id/deliveries/:deliveryId/replay", "Deliver an event again", { success: { status: 202 } }),
  account("GET /api/usage", "This month's sends against quotas, and the rate limit"),
  account("GET /api/settings", "The tenant's settings"),
  account("PATCH /api/settings", "Change the tenant's settings (tracking, retention, receipt windows, preference policy, contact encryption)", {
    body: { name: "Settings", schema: Settings, example: { tracking: "herald", retentionDays: 90 } },
  }),
  account("GET /api/audit-log", "The audit trail of administrative actions, newest first", { query: AuditQuery }),
  account("GET /api/keys", "The tenant's API keys (never their secrets); `current` marks the calling key"),
  account("POST /api/keys", "Mint an API key (the secret is shown once)", {
    description: "A key can grant only scopes it holds itself: without `*`, the new key's scopes must be a subset of the caller's (403 naming `scopes` otherwise).",
    body: { name: "CreateApiKey", schema: CreateKey, example: { name: "analytics", scopes: ["stats:read", "communications:read"], expiresInHours: 720 } },
  }),
  account("POST /api/keys/:id/rotate", "Rotate an API key; the old one lives on for the overlap", {
    body: { name: "RotateApiKey", schema: RotateKey, example: { overlapHours: 24 }, required: false },
  }),
  account("DELETE /api/keys/:id", "Revoke an API key (revoking the calling key is allowed and said so)", { success: { status: 200 } }),
  account("POST /api/inbox/tokens", "Mint a recipient's inbox token (for the browser)", {
    body: { name: "MintInboxToken", schema: MintToken, example: { recipientType: "customer", recipientId: "c1", ttlSeconds: 3600 } },
  }),

  automation("POST /api/events", "Post a business event (trigger rules run on it)", {
    success: { status: 202, description: "Accepted; 200 when its idempotencyKey was seen before." },
    body: { name: "BusinessEvent", schema: BusinessEventInput, example: { type: "sale.created", entityType: "sale", entityId: "S-1001", recipient: { id: "c1", email: "ada@example.com" }, data: { invoiceNumber: "INV-1001", total: 42.5 } } },
  }),
  automation("GET /api/events", "List business events and what they did", { query: EventListQuery }),
  automation("GET /api/events/:id", "A business event"),
  automation("GET /api/triggers/presets", "The preset workflows"),
  automation("GET /api/triggers", "List trigger rules"),
  automation("POST /api/triggers", "Create a trigger rule, or enable a preset", {
    body: { name: "CreateTriggerRule", schema: z.union([FromPreset, TriggerRuleInput]), example: { preset: "invoice_email_on_sale" } },
  }),
  automation("GET /api/triggers/:id", "A trigger rule"),
  automation("PATCH /api/triggers/:id", "Change a trigger rule", { body: { name: "UpdateTriggerRule", schema: Overrides, example: { enabled: false } } }),
  automation("DELETE /api/triggers/:id", "Delete a trigger rule"),
  automation("POST /api/reminders", "Start a reminder sequence", {
    body: {
      name: "CreateReminder",
      schema: CreateReminder,
      example: { name: "collection", entityType: "invoice", entityId: "INV-1001", recipient: { id: "c1", email: "ada@example.com" }, schedule: { everyDays: 3, maxSteps: 3 }, steps: [{ templateCode: "payment_reminder", channels: ["email"] }] },
    },
  }),
  automation("GET /api/reminders", "List reminder sequences", { query: ReminderListQuery }),
  automation("GET /api/reminders/:id", "A reminder sequence and what it sent"),
  automation("DELETE /api/reminders/:id", "Stop a reminder sequence", { success: { status: 200 } }),

  prefs("POST /api/recipients/:type/:id/devices", "Register a push device (FCM or APNs token, or a Web Push subscription)", {
    description: "Idempotent per token or endpoint: registering it again answers 200 with the same device. Push sends reach every device of the recipient; tokens the provider reports dead are removed.",
    params: { type: "user", id: "u1" },
    body: { name: "RegisterDevice", schema: RegisterDevice, example: { platform: "android", token: "fcm-registration-token-0123456789abcdef" } },
  }),
  prefs("GET /api/recipients/:type/:id/devices", "A recipient's push devices", { params: { type: "user", id: "u1" } }),
  prefs("DELETE /api/recipients/:type/:id/devices/:deviceId", "Remove a push device", { params: { type: "user", id: "u1" } }),

  marketing("POST /api/audiences", "Create an audience (a list, or a topic recipients subscribe to)", {
    body: { name: "CreateAudience", schema: CreateAudience, example: { name: "Newsletter", kind: "topic" } },
  }),
  marketing("GET /api/audiences", "List audiences"),
  marketing("GET /api/audiences/:id", "An audience with its member count"),
  marketing("DELETE /api/audiences/:id", "Delete an audience"),
  marketing("GET /api/audiences/:id/count", "An audience's member count"),
  marketing("GET /api/audiences/:id/members", "An audience's members, a page at a time", { query: MemberPage }),
  marketing("POST /api/audiences/:id/members", "Add up to 10,000 members (deduplicated)", {
    success: { status: 200 },
    body: { name: "AddMembers", schema: AddMembers, example: { members: [member, { recipientId: "c2", phone: "+14155550123" }] } },
  }),
  marketing("POST /api/audiences/:id/import", "Import members from CSV (text/csv, header row; extra columns become template variables)", { success: { status: 200 } }),
  marketing("POST /api/audiences/:id/members/remove", "Remove up to 10,000 members", {
    success: { status: 200 },
    body: { name: "RemoveMembers", schema: RemoveMembers, example: { members: [{ recipientType: "customer", recipientId: "c2" }] } },
  }),
  marketing("POST /api/audiences/:id/subscribe", "Subscribe one recipient (topics)", { success: { status: 200 }, body: { name: "AudienceMember", schema: MemberInput, example: member } }),
  marketing("POST /api/audiences/:id/unsubscribe", "Unsubscribe one recipient", {
    success: { status: 200 },
    body: { name: "AudienceMemberKey", schema: MemberKeyInput, example: { recipientType: "customer", recipientId: "c1" } },
  }),
  marketing("POST /api/campaigns", "Create a campaign (one message, or A/B variants on a test share)", {
    description: "A draft until `POST /api/campaigns/{id}/send` (or its `scheduledAt`). Marketing by default: opt-outs, suppressions and quiet hours apply to every member at send time.",
    body: {
      name: "CreateCampaign",
      schema: CreateCampaign,
      example: {
        name: "November newsletter",
        audienceId: "<audience id>",
        channel: "email",
        variants: [
          { name: "A", subject: "Our November picks", content: "<p>Hello {{name}}, here is what is new.</p>" },
          { name: "B", subject: "Picked for you this month", content: "<p>Hello {{name}}, we picked these for you.</p>" },
        ],
        testPercent: 20,
        testDurationMinutes: 120,
        winnerMetric: "opened",
        sendRate: 600,
      },
    },
  }),
  marketing("GET /api/campaigns", "List campaigns", { query: CampaignListQuery }),
  marketing("GET /api/campaigns/:id", "A campaign with its progress and per-variant results"),
  marketing("POST /api/campaigns/:id/send", "Start sending a draft or scheduled campaign", { success: { status: 202 } }),
  marketing("POST /api/campaigns/:id/pause", "Pause: stop creating messages (those created are still delivered)", { success: { status: 200 } }),
  marketing("POST /api/campaigns/:id/resume", "Resume a paused campaign where it stopped", { success: { status: 200 } }),
  marketing("POST /api/campaigns/:id/cancel", "Cancel: stop, and cancel its messages not yet sent", { success: { status: 200 } }),
  marketing("POST /api/campaigns/:id/winner", "Pick the A/B test's winner by hand; the rest of the audience gets it", {
    success: { status: 200 },
    description: "Only while the campaign's test phase runs (409 otherwise).",
    body: { name: "CampaignWinner", schema: Winner, example: { variant: "B" } },
  }),

  journeys("POST /api/workflows", "Create a workflow (version 1)", {
    description: "Steps run in order in a Cloudflare Workflows instance per recipient: send, delay, branch, wait_for_event, escalate, digest, throttle, start_reminder (docs/workflows.md). A bad step is a 422 naming its path, e.g. `steps.1.onTimeout.0.channel`.",
    body: { name: "CreateWorkflow", schema: CreateWorkflowDoc, example: { key: "invoice", name: "Invoice until paid", steps: journeySteps } },
  }),
  journeys("GET /api/workflows", "List workflows (active versions)"),
  journeys("POST /api/workflows/runs/cancel", "Cancel every open run with this cancellation key", {
    description: "Runs stop before their next step; their instances are terminated.",
    success: { status: 200 },
    body: { name: "CancelRuns", schema: CancelRuns, example: { cancellationKey: "invoice-F-1" } },
  }),
  journeys("GET /api/workflows/runs/:id", "A run with its steps, times, outcomes and communications", { params: { id: "0190a0a0-0000-7000-8000-000000000000" }, success: { status: 200 } }),
  journeys("GET /api/workflows/:key", "A workflow", { params: { key: "invoice" } }),
  journeys("PUT /api/workflows/:key", "Publish a new immutable version and make it active", {
    description: "Runs already started finish on the version they started with.",
    params: { key: "invoice" },
    body: { name: "WorkflowDefinition", schema: WorkflowDefinition, example: { name: "Invoice until paid", steps: journeySteps } },
  }),
  journeys("DELETE /api/workflows/:key", "Archive a workflow (new triggers 404; running runs finish)", { params: { key: "invoice" } }),
  journeys("GET /api/workflows/:key/versions", "Every version, newest first", { params: { key: "invoice" } }),
  journeys("POST /api/workflows/:key/versions/:version/activate", "Make an earlier version active (rollback)", { params: { key: "invoice", version: "1" }, success: { status: 200 } }),
  journeys("POST /api/workflows/:key/trigger", "Start runs for 1 to 1,000 recipients, or for every member of an audience", {
    description:
      "One run per recipient. `idempotencyKey` makes a replayed trigger answer with the same runs; `cancellationKey` names runs for `POST /api/workflows/runs/cancel`. With `audienceId` instead of `recipients` the answer is a fan-out (`fanout`, and its URL in `Location`): its members' runs start in pages on the bulk workflow, paced to Workflows' creation limit (docs/workflows.md). An unknown audience is a 404 naming `audienceId`.",
    params: { key: "invoice" },
    success: { status: 202 },
    body: { name: "TriggerWorkflow", schema: TriggerInput, example: { recipients: [{ type: "customer", id: "c1", email: "ada@example.com" }], data: { number: "F-1" }, idempotencyKey: "invoice-F-1", cancellationKey: "invoice-F-1" } },
  }),
  journeys("POST /api/workflows/:key/runs/:id/cancel", "Cancel one open run", {
    description: "The run stops before its next step and its instance is terminated; the answer is the cancelled run, whose `cancelReason` is the optional body's `reason` (else `cancelled by id`). A run that already finished is a 409 naming its status; an unknown run, or one of another workflow, is a 404.",
    params: { key: "invoice", id: "0190a0a0-0000-7000-8000-000000000000" },
    success: { status: 200 },
    body: { name: "CancelRun", schema: CancelRun, example: { reason: "customer asked to stop" }, required: false },
  }),
  journeys("GET /api/workflows/:key/runs", "A workflow's runs, newest first", { params: { key: "invoice" }, query: RunsQuery }),
  journeys("GET /api/workflows/:key/fanouts/:id", "An audience trigger's progress: members when triggered, runs started, failed, pending, state", { params: { key: "invoice", id: "0190a0a0-0000-7000-8000-000000000000" } }),
  journeys("GET /api/workflow-templates", "Ready-made workflows for common journeys, to copy"),
  journeys("GET /api/workflow-templates/:key", "A ready-made workflow", { params: { key: "invoice-after-sale" } }),
  journeys("POST /api/workflow-templates/:key/copy", "Create a workflow from a ready-made one", {
    params: { key: "invoice-after-sale" },
    success: { status: 201 },
    body: { name: "CopyWorkflowTemplate", schema: CopyTemplate, example: { key: "invoice-after-sale-copy", name: "Invoice after a sale" } },
  }),

  privacy("GET /api/recipients/:type/:id/export", "Export everything held about a recipient", { params: { type: "customer", id: "c1" } }),
  privacy("DELETE /api/recipients/:type/:id", "Erase a recipient", { params: { type: "customer", id: "c1" }, success: { status: 200 } }),
];
