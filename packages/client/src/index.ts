/**
 * `@herald/client`: a typed client for Herald's tenant API, for Node 20+, Deno, Bun, browsers'
 * backends and Workers. Plain `fetch`, no dependencies; retries with idempotency keys
 * (transport.ts), errors as ProblemError (problem.ts), async iterators over paged lists
 * (paginate.ts). The types are written here, not imported from the server, and a test on the
 * server's side (test/client-types.test.ts) checks they agree with its zod schemas and DTOs.
 *
 *   const herald = new HeraldClient({ baseUrl: "https://herald.example", apiKey: "hk_…" });
 *   const sent = await herald.communications.send({ channel: "sms", recipientContact: "+14155550123", content: "Hi" });
 */
import { Transport, type Call, type HeraldOptions } from "./transport.js";
import { communications, stats } from "./resources/communications.js";
import { inbox, preferences, providers, settings, suppressions, templates, webhooks } from "./resources/messaging.js";
import { events, reminders, triggers, workflows, workflowTemplates } from "./resources/automation.js";
import { audiences, auditLog, campaigns, conversations, keys, recipients, usage } from "./resources/engagement.js";

export { ProblemError, type FieldError, type Problem } from "./problem.js";
export { byCursor, byPage, collect } from "./paginate.js";
export type { RetryOptions } from "./retry.js";
export type { Call, CallOptions, FetchLike, HeraldOptions, Query } from "./transport.js";
export type * from "./types/index.js";

export class HeraldClient {
  readonly #transport: Transport;

  constructor(options: HeraldOptions) {
    this.#transport = new Transport(options);
    const t = this.#transport;
    this.communications = communications(t);
    this.stats = stats(t);
    this.templates = templates(t);
    this.providers = providers(t);
    this.preferences = preferences(t);
    this.suppressions = suppressions(t);
    this.webhooks = webhooks(t);
    this.settings = settings(t);
    this.inbox = inbox(t);
    this.events = events(t);
    this.triggers = triggers(t);
    this.reminders = reminders(t);
    this.workflows = workflows(t);
    this.workflowTemplates = workflowTemplates(t);
    this.audiences = audiences(t);
    this.campaigns = campaigns(t);
    this.conversations = conversations(t);
    this.recipients = recipients(t);
    this.auditLog = auditLog(t);
    this.usage = usage(t);
    this.keys = keys(t);
  }

  readonly communications: ReturnType<typeof communications>;
  readonly stats: ReturnType<typeof stats>;
  readonly templates: ReturnType<typeof templates>;
  readonly providers: ReturnType<typeof providers>;
  readonly preferences: ReturnType<typeof preferences>;
  readonly suppressions: ReturnType<typeof suppressions>;
  readonly webhooks: ReturnType<typeof webhooks>;
  readonly settings: ReturnType<typeof settings>;
  readonly inbox: ReturnType<typeof inbox>;
  readonly events: ReturnType<typeof events>;
  /** Deprecated in favour of workflows with triggerEvents; still fully working. */
  readonly triggers: ReturnType<typeof triggers>;
  readonly reminders: ReturnType<typeof reminders>;
  readonly workflows: ReturnType<typeof workflows>;
  readonly workflowTemplates: ReturnType<typeof workflowTemplates>;
  readonly audiences: ReturnType<typeof audiences>;
  readonly campaigns: ReturnType<typeof campaigns>;
  readonly conversations: ReturnType<typeof conversations>;
  readonly recipients: ReturnType<typeof recipients>;
  readonly auditLog: ReturnType<typeof auditLog>;
  readonly usage: ReturnType<typeof usage>;
  readonly keys: ReturnType<typeof keys>;

  /** Any route, for what the typed methods do not cover yet. */
  request<T>(method: string, path: string, call?: Call): Promise<T> {
    return this.#transport.request<T>(method, path, call);
  }
}
