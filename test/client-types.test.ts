/**
 * Keeps @herald/client's hand-written types honest (compile-time: tsc runs over the tests). The
 * package may not import the server, so its types are written out; here they are held against
 * the server's own schemas and DTOs:
 * - each request type accepts what the route's zod schema accepts, and nothing it rejects by type
 *   (`same`: each assignable to the other); query types name exactly the route's parameters;
 * - each DTO's return type fits the response schema the OpenAPI document shows (src/api/responses.ts),
 *   and the client's response type agrees with that schema.
 * A type that drifts fails `npx tsc --noEmit -p .` on the line that names it.
 */
import { describe, it } from "vitest";
import type { z } from "zod";
import type * as C from "../packages/client/src";
import type * as R from "../src/api/responses";
import type { acceptedDto } from "../src/api/routes/send";
import type { communicationDto, providerDto, timelineDto } from "../src/api/dto";
import type { SendRequest } from "../src/pipeline/send-request";
import type { ListQuery as CommunicationListQuery, ResendRequest } from "../src/api/routes/communications";
import type { StatsQuery } from "../src/api/routes/stats";
import type { CreateTemplate, Preview, TemplateListQuery, UpdateTemplate, templateDto } from "../src/api/routes/templates";
import type { CreateProvider, UpdateProvider } from "../src/api/routes/providers";
import type { ConsentRecord, PatchPreferences, preferenceDto } from "../src/api/routes/preferences";
import type { AddSuppression, SuppressionListQuery, suppressionDto } from "../src/api/routes/suppressions";
import type { CreateEndpoint, UpdateEndpoint, deliveryDto, endpointDto } from "../src/api/routes/webhooks";
import type { Settings } from "../src/api/routes/settings";
import type { MintToken } from "../src/api/routes/inbox";
import type { ListQuery as EventListQuery, eventDto } from "../src/api/routes/events";
import type { BusinessEventInput } from "../src/automation/event";
import type { TriggerRuleInput } from "../src/automation/rule";
import type { FromPreset, Overrides, triggerDto } from "../src/api/routes/triggers";
import type { CreateReminder, ListQuery as ReminderListQuery, reminderDto } from "../src/api/routes/reminders";
import type { AuditQuery, auditDto } from "../src/api/routes/audit-log";
import type { Register, deviceDto } from "../src/api/routes/devices";
import type { CreateAudience, MemberPage } from "../src/api/routes/audiences";
import type { MemberInput, MemberKeyInput } from "../src/campaigns/members";
import type { CreateCampaign } from "../src/campaigns/create";
import type { campaignDto } from "../src/campaigns/progress";
import type { ConversationListQuery, MessageListQuery, ReplyRequest, conversationDto, messageDto } from "../src/api/routes/conversations";
import type { RunsQuery, TriggerInput, runDto, workflowDto } from "../src/api/routes/workflows";
import type { CopyTemplate } from "../src/api/routes/workflow-templates";
import type { Step, WorkflowDefinition } from "../src/workflows/definition";
import type { CreateKey, RotateKey, keyDto } from "../src/api/keys";
import type { Scope } from "../src/api/scopes";

type Out<F extends (...args: never[]) => unknown> = ReturnType<F>;
type In<S extends z.ZodType> = z.input<S>;
/** Each assignable to the other: the same set of values, however each spells it. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? "same" : "the server's type is wider than the client's") : "the client's type is wider than the server's";
const same = <A, B>(verdict: Same<A, B>) => verdict;
/** The same parameter names (query values are strings on the wire; the server coerces them); else the odd ones out. */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? "same" : { onlyOnServer: Exclude<keyof B, keyof A> }) : { onlyInClient: Exclude<keyof A, keyof B> };
const sameKeys = <A, B>(verdict: SameKeys<A, B>) => verdict;
/** A is assignable to B: every value of A is one of B. */
const fits = <A, B>(verdict: [A] extends [B] ? "fits" : "does not fit") => verdict;

describe("client types agree with the server", () => {
  it("request bodies", () => {
    same<C.SendRequest, In<typeof SendRequest>>("same");
    same<C.ResendRequest, In<typeof ResendRequest>>("same");
    same<C.CreateTemplate, In<typeof CreateTemplate>>("same");
    same<C.UpdateTemplate, In<typeof UpdateTemplate>>("same");
    same<C.PreviewRequest, In<typeof Preview>>("same");
    same<C.CreateProvider, In<typeof CreateProvider>>("same");
    same<C.UpdateProvider, In<typeof UpdateProvider>>("same");
    same<C.PatchPreferences, In<typeof PatchPreferences>>("same");
    same<C.ConsentInput, In<typeof ConsentRecord>>("same");
    same<C.AddSuppression, In<typeof AddSuppression>>("same");
    same<C.CreateWebhookEndpoint, In<typeof CreateEndpoint>>("same");
    same<C.UpdateWebhookEndpoint, In<typeof UpdateEndpoint>>("same");
    same<C.PatchSettings, In<typeof Settings>>("same");
    same<C.CreateApiKey, In<typeof CreateKey>>("same");
    same<C.RotateApiKey, In<typeof RotateKey>>("same");
    same<C.MintInboxToken, In<typeof MintToken>>("same");
    same<C.BusinessEventInput, In<typeof BusinessEventInput>>("same");
    same<C.TriggerRuleInput, In<typeof TriggerRuleInput>>("same");
    same<C.TriggerFromPreset, In<typeof FromPreset>>("same");
    same<C.TriggerOverrides, In<typeof Overrides>>("same");
    same<C.CreateReminder, In<typeof CreateReminder>>("same");
    same<C.RegisterDevice, In<typeof Register>>("same");
    same<C.CreateAudience, In<typeof CreateAudience>>("same");
    same<C.MemberInput, In<typeof MemberInput>>("same");
    same<C.MemberKey, In<typeof MemberKeyInput>>("same");
    same<C.CreateCampaign, In<typeof CreateCampaign>>("same");
    same<C.ReplyRequest, In<typeof ReplyRequest>>("same");
    same<C.TriggerWorkflow, In<typeof TriggerInput>>("same");
    same<C.CopyWorkflowTemplate, In<typeof CopyTemplate>>("same");
    // The definition's steps are a recursive schema typed by its output: every step the server
    // can hold is one the client can send, and every step the client sends has the server's shape.
    fits<Step, C.WorkflowStep>("fits");
    fits<WorkflowDefinition, C.WorkflowDefinition>("fits");
  });

  it("query parameters", () => {
    sameKeys<C.CommunicationListQuery, In<typeof CommunicationListQuery>>("same");
    sameKeys<C.StatsQuery, In<typeof StatsQuery>>("same");
    sameKeys<C.TemplateListQuery, In<typeof TemplateListQuery>>("same");
    sameKeys<C.SuppressionListQuery, In<typeof SuppressionListQuery>>("same");
    sameKeys<C.EventListQuery, In<typeof EventListQuery>>("same");
    sameKeys<C.ReminderListQuery, In<typeof ReminderListQuery>>("same");
    sameKeys<C.AuditQuery, In<typeof AuditQuery>>("same");
    sameKeys<C.ConversationListQuery, In<typeof ConversationListQuery>>("same");
    sameKeys<C.MessageListQuery, In<typeof MessageListQuery>>("same");
    sameKeys<C.RunsQuery, In<typeof RunsQuery>>("same");
    sameKeys<{ size?: number; after?: string }, In<typeof MemberPage>>("same");
  });

  it("DTOs fit the documented response schemas", () => {
    fits<Out<typeof communicationDto>, z.output<typeof R.CommunicationOut>>("fits");
    fits<Out<typeof timelineDto>[number], z.output<typeof R.TimelineEntryOut>>("fits");
    fits<Out<typeof acceptedDto>, z.output<typeof R.AcceptedOut>>("fits");
    fits<Out<typeof templateDto>, z.output<typeof R.TemplateOut>>("fits");
    fits<Out<typeof providerDto>, z.output<typeof R.ProviderOut>>("fits");
    fits<Out<typeof preferenceDto>, z.output<typeof R.PreferencesOut>>("fits");
    fits<Out<typeof suppressionDto>, z.output<typeof R.SuppressionOut>>("fits");
    fits<Out<typeof endpointDto>, z.output<typeof R.WebhookEndpointOut>>("fits");
    fits<Out<typeof workflowDto>, z.output<typeof R.WorkflowOut>>("fits");
    fits<Out<typeof runDto>, z.output<typeof R.WorkflowRunOut>>("fits");
    fits<Out<typeof conversationDto>, z.output<typeof R.ConversationOut>>("fits");
    fits<Out<typeof messageDto>, z.output<typeof R.MessageOut>>("fits");
    fits<Out<typeof campaignDto>, z.output<typeof R.CampaignOut>>("fits");
  });

  it("client response types agree with the response schemas and DTOs", () => {
    same<C.Communication, z.output<typeof R.CommunicationOut>>("same");
    // Stored scopes are typed as strings on the server; they were checked against Scope when written.
    same<Omit<C.ApiKey, "scopes">, Omit<Out<typeof keyDto>, "scopes">>("same");
    same<C.Scope, Scope>("same");
    same<C.TimelineEntry, z.output<typeof R.TimelineEntryOut>>("same");
    same<C.CommunicationDetail, z.output<typeof R.CommunicationDetailOut>>("same");
    same<C.SendResult, z.output<typeof R.SendResultOut>>("same");
    same<C.Template, z.output<typeof R.TemplateOut>>("same");
    same<C.TemplateWritten, z.output<typeof R.TemplateWrittenOut>>("same");
    same<C.Provider, z.output<typeof R.ProviderOut>>("same");
    same<C.Preferences, z.output<typeof R.PreferencesOut>>("same");
    same<C.Suppression, z.output<typeof R.SuppressionOut>>("same");
    same<C.SuppressionPage, z.output<typeof R.RESPONSE_SCHEMAS.SuppressionPage>>("same");
    same<C.WebhookEndpoint, z.output<typeof R.WebhookEndpointOut>>("same");
    same<C.CreatedWebhookEndpoint, z.output<typeof R.CreatedWebhookEndpointOut>>("same");
    same<C.WorkflowRun, z.output<typeof R.WorkflowRunOut>>("same");
    same<C.Conversation, z.output<typeof R.ConversationOut>>("same");
    same<C.ConversationMessage, z.output<typeof R.MessageOut>>("same");
    same<C.Reply, z.output<typeof R.ReplyOut>>("same");
    same<C.Audience, z.output<typeof R.AudienceOut>>("same");
    same<C.Campaign, z.output<typeof R.CampaignOut>>("same");
    same<C.CampaignDetail, z.output<typeof R.CampaignDetailOut>>("same");
    same<C.Problem, z.output<typeof R.ProblemOut>>("same");
    // Steps are documented loosely (objects) but typed in the client: the DTO's steps are its steps.
    fits<Out<typeof workflowDto>, C.Workflow>("fits");
    // Without a schema of their own in the document: the DTO itself.
    fits<Out<typeof deliveryDto>, C.WebhookDelivery>("fits");
    fits<Out<typeof eventDto>, C.BusinessEvent>("fits");
    fits<Out<typeof triggerDto>, C.TriggerRule>("fits");
    fits<Out<typeof reminderDto>, C.Reminder>("fits");
    fits<Out<typeof auditDto>, C.AuditEntry>("fits");
    fits<Out<typeof deviceDto>, C.Device>("fits");
  });
});
