/**
 * A typed client for Herald's tenant API, for Node, browsers' backends, Workers and Deno: plain
 * `fetch`, no dependencies. Request types are the API's own zod input types, response types its
 * DTOs, so the client cannot drift from the server. Errors are thrown as ProblemError with the
 * status, code, field errors and request id. No Worker imports this module (it is not bundled).
 *
 *   const herald = new HeraldClient({ baseUrl: "https://herald.example", apiKey: "hk_…" });
 *   const sent = await herald.communications.send({ channel: "sms", recipientContact: "+14155550123", content: "Hi" });
 */
import type { z } from "zod";
import type { SendRequest } from "../pipeline/send-request";
import type { BusinessEventInput } from "../automation/event";
import type { TriggerRuleInput } from "../automation/rule";
import type { communicationDto, timelineDto, providerDto } from "../api/dto";
import type { acceptedDto } from "../api/routes/send";
import type { ListQuery as CommunicationListQuery, ResendRequest } from "../api/routes/communications";
import type { StatsQuery } from "../api/routes/stats";
import type { CreateTemplate, Preview, TemplateListQuery, UpdateTemplate, templateDto } from "../api/routes/templates";
import type { CreateProvider, UpdateProvider } from "../api/routes/providers";
import type { ConsentRecord, PatchPreferences, preferenceDto } from "../api/routes/preferences";
import type { AddSuppression, SuppressionListQuery, suppressionDto } from "../api/routes/suppressions";
import type { CreateEndpoint, UpdateEndpoint, endpointDto } from "../api/routes/webhooks";
import type { Settings } from "../api/routes/settings";
import type { MintToken } from "../api/routes/inbox";
import type { ListQuery as EventListQuery, eventDto } from "../api/routes/events";
import type { FromPreset, Overrides, triggerDto } from "../api/routes/triggers";
import type { AuditQuery, auditDto } from "../api/routes/audit-log";
import { problemFrom } from "./problem";

export { ProblemError, type FieldError } from "./problem";

/** Query strings: the route's own parameter names; values are sent as strings. */
type Query<S extends z.ZodType> = { [K in keyof z.input<S>]?: string | number | boolean };
type Out<F extends (...args: never[]) => unknown> = ReturnType<F>;

export type Communication = Out<typeof communicationDto>;
export type CommunicationDetail = Communication & { events: Out<typeof timelineDto> };
export type Accepted = Out<typeof acceptedDto>;
export type SendResult = (Accepted & { communication: Communication }) | { results: Accepted[]; communications: Communication[] };
export type BatchResult = {
  accepted: number;
  rejected: number;
  communications: number;
  results: ({ index: number } & (Accepted | { routed: Accepted[] } | { error: { code: string; detail: string; errors: { field: string; message: string }[] } }))[];
};
export type Page<T> = { results: T[]; count: number; page: number; size: number };
export type Template = Out<typeof templateDto> & { warnings?: string[] };
export type Provider = Out<typeof providerDto>;
export type Preferences = Out<typeof preferenceDto>;
export type Suppression = Out<typeof suppressionDto>;
export type WebhookEndpoint = Out<typeof endpointDto>;
export type BusinessEvent = Out<typeof eventDto>;
export type TriggerRule = Out<typeof triggerDto>;
export type AuditEntry = Out<typeof auditDto>;
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
};

export type HeraldOptions = {
  baseUrl: string;
  apiKey: string;
  /** Defaults to the global fetch; pass a Worker's service binding's or a test's. */
  fetch?: (input: Request | string, init?: RequestInit) => Promise<Response>;
  /** Sent with every request, e.g. a `traceparent`. */
  headers?: Record<string, string>;
};

type Call = { query?: Record<string, unknown>; body?: unknown; headers?: Record<string, string> };

export class HeraldClient {
  readonly #base: string;
  readonly #fetch: NonNullable<HeraldOptions["fetch"]>;
  readonly #headers: Record<string, string>;

  constructor(options: HeraldOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#headers = { ...options.headers, authorization: `Bearer ${options.apiKey}` };
  }

  async request<T>(method: string, path: string, call: Call = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined && v !== null) params.set(k, String(v));
    const qs = params.size ? `?${params}` : "";
    const headers: Record<string, string> = { ...this.#headers, ...call.headers };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const res = await this.#fetch(`${this.#base}${path}${qs}`, { method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) });
    if (!res.ok) throw await problemFrom(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  #id = (id: string) => encodeURIComponent(id);

  readonly communications = {
    /** `idempotencyKey` makes a retried send safe: the first answer is replayed. */
    send: (req: z.input<typeof SendRequest>, o: { idempotencyKey?: string } = {}) =>
      this.request<SendResult>("POST", "/api/communications/send", { body: req, headers: o.idempotencyKey ? { "idempotency-key": o.idempotencyKey } : {} }),
    batch: (items: z.input<typeof SendRequest>[], o: { idempotencyKey?: string } = {}) =>
      this.request<BatchResult>("POST", "/api/communications/batch", { body: { items }, headers: o.idempotencyKey ? { "idempotency-key": o.idempotencyKey } : {} }),
    list: (query: Query<typeof CommunicationListQuery> = {}) => this.request<Page<Communication>>("GET", "/api/communications", { query }),
    get: (id: string) => this.request<CommunicationDetail>("GET", `/api/communications/${this.#id(id)}`),
    cancel: (id: string) => this.request<Communication>("POST", `/api/communications/${this.#id(id)}/cancel`),
    resend: (id: string, overrides: z.input<typeof ResendRequest> = {}) =>
      this.request<{ id: string; originalCommunicationId: string; status: string }>("POST", `/api/communications/${this.#id(id)}/resend`, { body: overrides }),
  };

  readonly stats = {
    get: (query: Query<typeof StatsQuery> = {}) => this.request<Stats>("GET", "/api/communications/stats", { query }),
    usage: () => this.request<Record<string, unknown>>("GET", "/api/usage"),
  };

  readonly templates = {
    create: (t: z.input<typeof CreateTemplate>) => this.request<Template>("POST", "/api/communication-templates", { body: t }),
    list: (query: Query<typeof TemplateListQuery> = {}) => this.request<{ results: Template[] }>("GET", "/api/communication-templates", { query }),
    get: (id: string) => this.request<Template>("GET", `/api/communication-templates/${this.#id(id)}`),
    update: (id: string, patch: z.input<typeof UpdateTemplate>) => this.request<Template>("PATCH", `/api/communication-templates/${this.#id(id)}`, { body: patch }),
    delete: (id: string) => this.request<void>("DELETE", `/api/communication-templates/${this.#id(id)}`),
    versions: (id: string) => this.request<{ results: Record<string, unknown>[] }>("GET", `/api/communication-templates/${this.#id(id)}/versions`),
    activate: (id: string, version: number) => this.request<Template>("POST", `/api/communication-templates/${this.#id(id)}/versions/${version}/activate`),
    preview: (id: string, p: z.input<typeof Preview> = {}) =>
      this.request<{ subject: string | null; body: string; html?: string | null; text?: string | null; warnings: string[]; sms?: { encoding: string; segments: number; characters: number } }>(
        "POST",
        `/api/communication-templates/${this.#id(id)}/preview`,
        { body: p },
      ),
  };

  readonly preferences = {
    get: (entityType: string, entityId: string) => this.request<Preferences>("GET", `/api/communication-preferences/${this.#id(entityType)}/${this.#id(entityId)}`),
    update: (entityType: string, entityId: string, patch: z.input<typeof PatchPreferences>) =>
      this.request<Preferences>("PATCH", `/api/communication-preferences/${this.#id(entityType)}/${this.#id(entityId)}`, { body: patch }),
    consents: (entityType: string, entityId: string) =>
      this.request<{ results: Record<string, unknown>[] }>("GET", `/api/communication-preferences/${this.#id(entityType)}/${this.#id(entityId)}/consents`),
    recordConsent: (entityType: string, entityId: string, record: z.input<typeof ConsentRecord>) =>
      this.request<Record<string, unknown>>("POST", `/api/communication-preferences/${this.#id(entityType)}/${this.#id(entityId)}/consents`, { body: record }),
  };

  readonly suppressions = {
    list: (query: Query<typeof SuppressionListQuery> = {}) => this.request<{ results: Suppression[]; page: number; size: number }>("GET", "/api/suppressions", { query }),
    add: (s: z.input<typeof AddSuppression>) => this.request<Suppression>("POST", "/api/suppressions", { body: s }),
    remove: (channel: string, contact: string) => this.request<void>("DELETE", `/api/suppressions/${this.#id(channel)}/${this.#id(contact)}`),
  };

  readonly providers = {
    create: (p: z.input<typeof CreateProvider>) => this.request<Provider>("POST", "/api/providers", { body: p }),
    list: () => this.request<{ results: Provider[] }>("GET", "/api/providers"),
    get: (id: string) => this.request<Provider>("GET", `/api/providers/${this.#id(id)}`),
    update: (id: string, patch: z.input<typeof UpdateProvider>) => this.request<Provider>("PATCH", `/api/providers/${this.#id(id)}`, { body: patch }),
    delete: (id: string) => this.request<void>("DELETE", `/api/providers/${this.#id(id)}`),
  };

  readonly webhooks = {
    create: (e: z.input<typeof CreateEndpoint>) => this.request<WebhookEndpoint & { secret: string }>("POST", "/api/webhooks", { body: e }),
    list: () => this.request<{ results: WebhookEndpoint[] }>("GET", "/api/webhooks"),
    update: (id: string, patch: z.input<typeof UpdateEndpoint>) => this.request<WebhookEndpoint>("PATCH", `/api/webhooks/${this.#id(id)}`, { body: patch }),
    delete: (id: string) => this.request<void>("DELETE", `/api/webhooks/${this.#id(id)}`),
  };

  readonly settings = {
    get: () => this.request<Record<string, unknown>>("GET", "/api/settings"),
    update: (patch: z.input<typeof Settings>) => this.request<Record<string, unknown>>("PATCH", "/api/settings", { body: patch }),
  };

  readonly inbox = {
    /** For the recipient's browser: the only credential a browser should hold. */
    createToken: (t: z.input<typeof MintToken>) =>
      this.request<{ token: string; expiresAt: string; recipientType: string; recipientId: string }>("POST", "/api/inbox/tokens", { body: t }),
  };

  readonly events = {
    post: (e: z.input<typeof BusinessEventInput>, o: { idempotencyKey?: string } = {}) =>
      this.request<{ id: string; type: string; status: string; receivedAt: string; duplicate?: boolean }>("POST", "/api/events", {
        body: e,
        headers: o.idempotencyKey ? { "idempotency-key": o.idempotencyKey } : {},
      }),
    list: (query: Query<typeof EventListQuery> = {}) => this.request<{ results: BusinessEvent[] }>("GET", "/api/events", { query }),
    get: (id: string) => this.request<BusinessEvent>("GET", `/api/events/${this.#id(id)}`),
  };

  readonly triggers = {
    create: (rule: z.input<typeof TriggerRuleInput> | z.input<typeof FromPreset>) => this.request<TriggerRule>("POST", "/api/triggers", { body: rule }),
    list: () => this.request<{ results: TriggerRule[] }>("GET", "/api/triggers"),
    update: (id: string, patch: z.input<typeof Overrides>) => this.request<TriggerRule>("PATCH", `/api/triggers/${this.#id(id)}`, { body: patch }),
    delete: (id: string) => this.request<void>("DELETE", `/api/triggers/${this.#id(id)}`),
  };

  readonly auditLog = {
    list: (query: Query<typeof AuditQuery> = {}) => this.request<{ results: AuditEntry[]; nextCursor: string | null }>("GET", "/api/audit-log", { query }),
  };

  readonly recipients = {
    export: (type: string, id: string) => this.request<Record<string, unknown>>("GET", `/api/recipients/${this.#id(type)}/${this.#id(id)}/export`),
    erase: (type: string, id: string) => this.request<{ erased: Record<string, number | boolean>; at: string }>("DELETE", `/api/recipients/${this.#id(type)}/${this.#id(id)}`),
  };
}
