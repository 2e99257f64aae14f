/**
 * Which documented response schema (src/api/responses.ts) each route answers with on success, by
 * `METHOD path` as the catalog names routes. Kept apart from the catalog so adding a route stays
 * a one-line change there; test/vendor/openapi.test.ts checks every entry names a catalogued route.
 * Routes not listed here are documented as `{ type: object }`.
 */
import type { ResponseName } from "../responses";

export const ROUTE_RESPONSES: Record<string, ResponseName> = {
  "POST /api/communications/send": "SendResult",
  "GET /api/communications": "CommunicationPage",
  "GET /api/communications/:id": "CommunicationDetail",
  "POST /api/communications/:id/cancel": "Communication",
  "POST /api/communication-templates": "TemplateWritten",
  "GET /api/communication-templates": "TemplateList",
  "GET /api/communication-templates/:id": "Template",
  "PATCH /api/communication-templates/:id": "TemplateWritten",
  "POST /api/communication-templates/:id/versions/:version/activate": "Template",
  "POST /api/providers": "Provider",
  "GET /api/providers": "ProviderList",
  "GET /api/providers/:id": "Provider",
  "PATCH /api/providers/:id": "Provider",
  "GET /api/communication-preferences/:entityType/:entityId": "Preferences",
  "PATCH /api/communication-preferences/:entityType/:entityId": "Preferences",
  "GET /api/suppressions": "SuppressionPage",
  "POST /api/suppressions": "Suppression",
  "POST /api/webhooks": "CreatedWebhookEndpoint",
  "GET /api/webhooks": "WebhookEndpointList",
  "GET /api/webhooks/:id": "WebhookEndpoint",
  "PATCH /api/webhooks/:id": "WebhookEndpoint",
  "POST /api/workflows": "Workflow",
  "GET /api/workflows": "WorkflowList",
  "GET /api/workflows/:key": "Workflow",
  "PUT /api/workflows/:key": "Workflow",
  "POST /api/workflows/:key/versions/:version/activate": "Workflow",
  "GET /api/workflows/runs/:id": "WorkflowRun",
  "GET /api/workflows/:key/runs": "WorkflowRunPage",
  "POST /api/workflow-templates/:key/copy": "Workflow",
  "GET /api/conversations": "ConversationPage",
  "GET /api/conversations/:id": "Conversation",
  "GET /api/conversations/:id/messages": "MessagePage",
  "POST /api/conversations/:id/read": "Conversation",
  "POST /api/conversations/:id/reply": "Reply",
  "POST /api/audiences": "Audience",
  "GET /api/audiences": "AudienceList",
  "GET /api/audiences/:id": "Audience",
  "POST /api/campaigns": "Campaign",
  "GET /api/campaigns": "CampaignPage",
  "GET /api/campaigns/:id": "CampaignDetail",
  "POST /api/campaigns/:id/send": "CampaignDetail",
  "POST /api/campaigns/:id/pause": "CampaignDetail",
  "POST /api/campaigns/:id/resume": "CampaignDetail",
  "POST /api/campaigns/:id/winner": "CampaignDetail",
};
