/** Templates, providers, preferences, suppressions, webhook endpoints, settings, inbox tokens. */
import { byPage } from "../paginate.js";
import { seg, type CallOptions, type Transport } from "../transport.js";
import type {
  AddSuppression,
  Consent,
  ConsentInput,
  CreatedWebhookEndpoint,
  CreateProvider,
  CreateTemplate,
  CreateWebhookEndpoint,
  InboxToken,
  List,
  MintInboxToken,
  PatchPreferences,
  PatchSettings,
  Preferences,
  Preview,
  PreviewRequest,
  Provider,
  Settings,
  Suppression,
  SuppressionListQuery,
  SuppressionPage,
  Template,
  TemplateListQuery,
  TemplateVersion,
  TemplateWritten,
  UpdateProvider,
  UpdateTemplate,
  UpdateWebhookEndpoint,
  WebhookDelivery,
  WebhookEndpoint,
} from "../types/index.js";

const TEMPLATES = "/api/communication-templates";
export const templates = (t: Transport) => ({
  create: (body: CreateTemplate, o: CallOptions = {}) => t.request<TemplateWritten>("POST", TEMPLATES, { ...o, body }),
  list: (query: TemplateListQuery = {}, o: CallOptions = {}) => t.request<List<Template>>("GET", TEMPLATES, { ...o, query }),
  get: (id: string, o: CallOptions = {}) => t.request<Template>("GET", `${TEMPLATES}/${seg(id)}`, o),
  update: (id: string, patch: UpdateTemplate, o: CallOptions = {}) => t.request<TemplateWritten>("PATCH", `${TEMPLATES}/${seg(id)}`, { ...o, body: patch }),
  delete: (id: string, o: CallOptions = {}) => t.request<void>("DELETE", `${TEMPLATES}/${seg(id)}`, o),
  versions: (id: string, o: CallOptions = {}) => t.request<List<TemplateVersion>>("GET", `${TEMPLATES}/${seg(id)}/versions`, o),
  activate: (id: string, version: number, o: CallOptions = {}) => t.request<Template>("POST", `${TEMPLATES}/${seg(id)}/versions/${seg(version)}/activate`, o),
  preview: (id: string, body: PreviewRequest = {}, o: CallOptions = {}) => t.request<Preview>("POST", `${TEMPLATES}/${seg(id)}/preview`, { ...o, body }),
});

export const providers = (t: Transport) => ({
  create: (body: CreateProvider, o: CallOptions = {}) => t.request<Provider>("POST", "/api/providers", { ...o, body }),
  list: (o: CallOptions = {}) => t.request<List<Provider>>("GET", "/api/providers", o),
  get: (id: string, o: CallOptions = {}) => t.request<Provider>("GET", `/api/providers/${seg(id)}`, o),
  update: (id: string, patch: UpdateProvider, o: CallOptions = {}) => t.request<Provider>("PATCH", `/api/providers/${seg(id)}`, { ...o, body: patch }),
  delete: (id: string, o: CallOptions = {}) => t.request<void>("DELETE", `/api/providers/${seg(id)}`, o),
});

const prefs = (entityType: string, entityId: string) => `/api/communication-preferences/${seg(entityType)}/${seg(entityId)}`;
export const preferences = (t: Transport) => ({
  get: (entityType: string, entityId: string, o: CallOptions = {}) => t.request<Preferences>("GET", prefs(entityType, entityId), o),
  update: (entityType: string, entityId: string, patch: PatchPreferences, o: CallOptions = {}) => t.request<Preferences>("PATCH", prefs(entityType, entityId), { ...o, body: patch }),
  consents: (entityType: string, entityId: string, o: CallOptions = {}) => t.request<List<Consent>>("GET", `${prefs(entityType, entityId)}/consents`, o),
  recordConsent: (entityType: string, entityId: string, body: ConsentInput, o: CallOptions = {}) => t.request<Consent>("POST", `${prefs(entityType, entityId)}/consents`, { ...o, body }),
});

export const suppressions = (t: Transport) => ({
  list: (query: SuppressionListQuery = {}, o: CallOptions = {}) => t.request<SuppressionPage>("GET", "/api/suppressions", { ...o, query }),
  all: (query: Omit<SuppressionListQuery, "page"> = {}, o: CallOptions = {}) =>
    byPage<Suppression>((page) => t.request<SuppressionPage>("GET", "/api/suppressions", { ...o, query: { ...query, page } })),
  add: (body: AddSuppression, o: CallOptions = {}) => t.request<Suppression>("POST", "/api/suppressions", { ...o, body }),
  remove: (channel: string, contact: string, o: CallOptions = {}) => t.request<void>("DELETE", `/api/suppressions/${seg(channel)}/${seg(contact)}`, o),
});

export const webhooks = (t: Transport) => ({
  create: (body: CreateWebhookEndpoint, o: CallOptions = {}) => t.request<CreatedWebhookEndpoint>("POST", "/api/webhooks", { ...o, body }),
  list: (o: CallOptions = {}) => t.request<List<WebhookEndpoint>>("GET", "/api/webhooks", o),
  get: (id: string, o: CallOptions = {}) => t.request<WebhookEndpoint>("GET", `/api/webhooks/${seg(id)}`, o),
  update: (id: string, patch: UpdateWebhookEndpoint, o: CallOptions = {}) => t.request<WebhookEndpoint>("PATCH", `/api/webhooks/${seg(id)}`, { ...o, body: patch }),
  delete: (id: string, o: CallOptions = {}) => t.request<void>("DELETE", `/api/webhooks/${seg(id)}`, o),
  deliveries: (id: string, query: { limit?: number } = {}, o: CallOptions = {}) => t.request<List<WebhookDelivery>>("GET", `/api/webhooks/${seg(id)}/deliveries`, { ...o, query }),
  replay: (id: string, deliveryId: string, o: CallOptions = {}) => t.request<WebhookDelivery>("POST", `/api/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}/replay`, o),
});

export const settings = (t: Transport) => ({
  get: (o: CallOptions = {}) => t.request<Settings>("GET", "/api/settings", o),
  update: (patch: PatchSettings, o: CallOptions = {}) => t.request<Settings>("PATCH", "/api/settings", { ...o, body: patch }),
});

export const inbox = (t: Transport) => ({
  /** For the recipient's browser: the only credential a browser should hold. */
  createToken: (body: MintInboxToken, o: CallOptions = {}) => t.request<InboxToken>("POST", "/api/inbox/tokens", { ...o, body }),
});
