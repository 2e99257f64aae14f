/** Business events, trigger rules (deprecated for workflows), reminder sequences, workflows. */
import { byCursor } from "../paginate.js";
import { seg, type CallOptions, type Transport } from "../transport.js";
import type {
  AcceptedEvent,
  BusinessEvent,
  BusinessEventInput,
  CopyWorkflowTemplate,
  CreateReminder,
  CreateWorkflow,
  CursorPage,
  EventListQuery,
  List,
  Reminder,
  ReminderDetail,
  ReminderListQuery,
  RunsQuery,
  Triggered,
  TriggerFromPreset,
  TriggerOverrides,
  TriggerPreset,
  TriggerRule,
  TriggerRuleInput,
  TriggerWorkflow,
  Workflow,
  WorkflowDefinition,
  WorkflowRun,
  WorkflowTemplate,
  WorkflowVersion,
} from "../types/index.js";

export const events = (t: Transport) => ({
  /** Retried safely: the Idempotency-Key makes the API replay the first answer. */
  post: (body: BusinessEventInput, o: CallOptions = {}) => t.request<AcceptedEvent>("POST", "/api/events", { ...o, body, dedupe: true }),
  list: (query: EventListQuery = {}, o: CallOptions = {}) => t.request<List<BusinessEvent>>("GET", "/api/events", { ...o, query }),
  get: (id: string, o: CallOptions = {}) => t.request<BusinessEvent>("GET", `/api/events/${seg(id)}`, o),
});

export const triggers = (t: Transport) => ({
  presets: (o: CallOptions = {}) => t.request<List<TriggerPreset>>("GET", "/api/triggers/presets", o),
  create: (body: TriggerRuleInput | TriggerFromPreset, o: CallOptions = {}) => t.request<TriggerRule>("POST", "/api/triggers", { ...o, body }),
  list: (o: CallOptions = {}) => t.request<List<TriggerRule>>("GET", "/api/triggers", o),
  get: (id: string, o: CallOptions = {}) => t.request<TriggerRule>("GET", `/api/triggers/${seg(id)}`, o),
  update: (id: string, patch: TriggerOverrides, o: CallOptions = {}) => t.request<TriggerRule>("PATCH", `/api/triggers/${seg(id)}`, { ...o, body: patch }),
  delete: (id: string, o: CallOptions = {}) => t.request<void>("DELETE", `/api/triggers/${seg(id)}`, o),
});

export const reminders = (t: Transport) => ({
  create: (body: CreateReminder, o: CallOptions = {}) => t.request<Reminder>("POST", "/api/reminders", { ...o, body }),
  list: (query: ReminderListQuery = {}, o: CallOptions = {}) => t.request<CursorPage<Reminder>>("GET", "/api/reminders", { ...o, query }),
  all: (query: Omit<ReminderListQuery, "cursor"> = {}, o: CallOptions = {}) =>
    byCursor((cursor) => t.request<CursorPage<Reminder>>("GET", "/api/reminders", { ...o, query: { ...query, cursor } }), (p) => p.nextCursor),
  get: (id: string, o: CallOptions = {}) => t.request<ReminderDetail>("GET", `/api/reminders/${seg(id)}`, o),
  /** Stops the sequence; its pending sends are cancelled. */
  cancel: (id: string, o: CallOptions = {}) => t.request<Reminder>("DELETE", `/api/reminders/${seg(id)}`, o),
});

const wf = (key: string) => `/api/workflows/${seg(key)}`;
export const workflows = (t: Transport) => ({
  create: (body: CreateWorkflow, o: CallOptions = {}) => t.request<Workflow>("POST", "/api/workflows", { ...o, body }),
  list: (o: CallOptions = {}) => t.request<List<Workflow>>("GET", "/api/workflows", o),
  get: (key: string, o: CallOptions = {}) => t.request<Workflow>("GET", wf(key), o),
  /** Publishes a new version and makes it active. */
  update: (key: string, definition: WorkflowDefinition, o: CallOptions = {}) => t.request<Workflow>("PUT", wf(key), { ...o, body: definition }),
  delete: (key: string, o: CallOptions = {}) => t.request<void>("DELETE", wf(key), o),
  versions: (key: string, o: CallOptions = {}) => t.request<List<WorkflowVersion>>("GET", `${wf(key)}/versions`, o),
  activate: (key: string, version: number, o: CallOptions = {}) => t.request<Workflow>("POST", `${wf(key)}/versions/${seg(version)}/activate`, o),
  /** Starts a run per recipient. Give `idempotencyKey` in the body to make a retried trigger start no second run. */
  trigger: (key: string, body: TriggerWorkflow, o: CallOptions = {}) => t.request<Triggered>("POST", `${wf(key)}/trigger`, { ...o, body, dedupe: body.idempotencyKey !== undefined }),
  runs: (key: string, query: RunsQuery = {}, o: CallOptions = {}) => t.request<CursorPage<WorkflowRun>>("GET", `${wf(key)}/runs`, { ...o, query }),
  allRuns: (key: string, query: Omit<RunsQuery, "cursor"> = {}, o: CallOptions = {}) =>
    byCursor((cursor) => t.request<CursorPage<WorkflowRun>>("GET", `${wf(key)}/runs`, { ...o, query: { ...query, cursor } }), (p) => p.nextCursor),
  run: (id: string, o: CallOptions = {}) => t.request<WorkflowRun>("GET", `/api/workflows/runs/${seg(id)}`, o),
  /** Cancels every run started with this cancellationKey. */
  cancelRuns: (cancellationKey: string, o: CallOptions = {}) => t.request<{ cancelled: number }>("POST", "/api/workflows/runs/cancel", { ...o, body: { cancellationKey } }),
  /** Cancels one open run (it stops before its next step), keeping `reason`; a finished run is a 409 naming its status. */
  cancelRun: (key: string, id: string, body: { reason?: string } = {}, o: CallOptions = {}) => t.request<WorkflowRun>("POST", `${wf(key)}/runs/${seg(id)}/cancel`, { ...o, body }),
});

export const workflowTemplates = (t: Transport) => ({
  list: (o: CallOptions = {}) => t.request<List<WorkflowTemplate>>("GET", "/api/workflow-templates", o),
  get: (key: string, o: CallOptions = {}) => t.request<WorkflowTemplate>("GET", `/api/workflow-templates/${seg(key)}`, o),
  /** Copies the template into the tenant's workflows as version 1. */
  copy: (key: string, body: CopyWorkflowTemplate = {}, o: CallOptions = {}) => t.request<Workflow>("POST", `/api/workflow-templates/${seg(key)}/copy`, { ...o, body }),
});
