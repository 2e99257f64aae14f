/** Business events, trigger rules (deprecated for workflows), reminder sequences and workflows. */
import type { Channel, Condition, EventRecipient, Json, Priority, Timestamp } from "./common.js";

export type BusinessEventInput = {
  /** A dotted lowercase name: `invoice.overdue`. */
  type: string;
  entityType?: string;
  entityId?: string;
  recipient?: EventRecipient;
  recipients?: EventRecipient[];
  data?: Json;
  occurredAt?: Timestamp;
  /** The event's own key: a repeat answers 200 with the event already accepted. */
  idempotencyKey?: string;
};
export type AcceptedEvent = { id: string; type: string; status: string; receivedAt: Timestamp | null; duplicate?: boolean };
export type BusinessEvent = {
  id: string;
  type: string;
  entityType: string | null;
  entityId: string | null;
  recipients: EventRecipient[];
  data: Json;
  occurredAt: Timestamp | null;
  idempotencyKey: string | null;
  status: string;
  /** What the event did: rules matched, communications made, errors. */
  outcome: unknown;
  receivedAt: Timestamp | null;
  processedAt: Timestamp | null;
};
export type EventListQuery = { type?: string; entityType?: string; entityId?: string; limit?: number };

/** A rule's or a reminder's message: a template on channels. */
export type RuleSend = {
  templateCode: string;
  channels: Channel[];
  routing?: "fixed" | "preferences";
  strategy?: "all" | "first";
  type?: string;
  priority?: Priority;
};
export type ReminderSchedule = { everyDays?: number; offsetsDays?: number[]; every?: string; offsets?: string[]; maxSteps: number };
export type RuleAction =
  | (RuleSend & {
      kind: "send";
      delaySeconds?: number;
      attachments?: { urlField: string; filename: string; mimeType?: string }[];
      roles?: string[];
      digest?: { windowSeconds: number };
    })
  | { kind: "reminder"; name: string; firstDelaySeconds?: number; schedule: ReminderSchedule; steps: RuleSend[]; cancelOn?: string[]; roles?: string[] };
export type TriggerRuleInput = { name: string; eventType: string; conditions?: Condition[]; action: RuleAction; enabled?: boolean };
/** A preset enabled as a rule, with overrides (the `action` fields replace the preset's one by one). */
export type TriggerFromPreset = { preset: string; name?: unknown; eventType?: unknown; conditions?: unknown; enabled?: unknown; action?: Json };
export type TriggerOverrides = Omit<TriggerFromPreset, "preset">;
export type TriggerRule = {
  id: string;
  name: string;
  preset: string | null;
  eventType: string;
  conditions: Condition[];
  action: RuleAction;
  enabled: boolean;
  createdAt: Timestamp;
  updatedAt: Timestamp;
};
export type TriggerPreset = { code: string; description: string; rule: Json };

export type CreateReminder = {
  name?: string;
  entityType: string;
  entityId: string;
  recipient: EventRecipient;
  variables?: Json;
  firstAt?: Timestamp;
  schedule: ReminderSchedule;
  steps: RuleSend[];
  cancelOn?: string[];
};
export type Reminder = {
  id: string;
  name: string;
  entityType: string;
  entityId: string;
  recipient: EventRecipient;
  variables: Json;
  schedule: { firstAt: Timestamp | null; everyDays: number | null; offsetsDays: number[] | null; every: string | null; offsets: string[] | null; maxSteps: number };
  steps: unknown[];
  cancelOn: string[];
  status: "active" | "completed" | "cancelled";
  stepsSent: number;
  stepCount: number;
  nextAt: Timestamp | null;
  triggerRuleId: string | null;
  cancelledAt: Timestamp | null;
  cancelReason: string | null;
  cancelledBy: { eventType: string; eventId: string | null } | null;
  workflowRunId: string | null;
  lastError: string | null;
  createdAt: Timestamp | null;
};
/** One sequence with each step's fate and the communications it sent. */
export type ReminderDetail = Reminder & { communications: Json[] };
export type ReminderListQuery = {
  entityType?: string;
  entityId?: string;
  status?: "active" | "completed" | "cancelled";
  name?: string;
  recipientType?: string;
  recipientId?: string;
  triggerRuleId?: string;
  workflowRunId?: string;
  cursor?: string;
  limit?: number;
};

/** Workflow steps (src/workflows/definition.ts on the server): a tree read top to bottom. */
export type WorkflowSendStep = {
  type: "send";
  id: string;
  channel: Channel | "auto";
  channels?: Channel[];
  templateCode?: string;
  subject?: string;
  content?: string;
  messageType?: string;
  priority?: Priority;
  when?: Condition[];
};
export type WorkflowStep =
  | WorkflowSendStep
  | { type: "delay"; id: string; duration?: string; untilField?: string; untilTimeOfDay?: string; timeZone?: string }
  | { type: "digest"; id: string; key?: string; window?: string; untilTimeOfDay?: string; timeZone?: string; maxEvents?: number }
  | { type: "throttle"; id: string; limit: number; window: string; key?: string }
  | { type: "start_reminder"; id: string; name: string; entityField: string; templateCode: string; channels: Channel[]; every: string; maxSteps: number; cancelOn?: string[] }
  | { type: "branch"; id: string; paths: { when: Condition[]; steps: WorkflowStep[] }[]; otherwise?: WorkflowStep[] }
  | { type: "wait_for_event"; id: string; event: string; timeout: string; onEvent?: WorkflowStep[]; onTimeout?: WorkflowStep[] }
  | { type: "escalate"; id: string; after: string; within: string; unless: "delivered" | "opened" | "clicked" | "read"; send: WorkflowSendStep };
export type WorkflowDefinition = { name: string; description?: string; steps: WorkflowStep[]; triggerEvents?: string[] };
export type CreateWorkflow = WorkflowDefinition & { key: string };
export type Workflow = {
  key: string;
  name: string;
  description: string | null;
  version: number;
  steps: WorkflowStep[];
  triggerEvents: string[];
  createdAt: Timestamp | null;
  updatedAt: Timestamp | null;
};
export type WorkflowVersion = Omit<Workflow, "key" | "updatedAt"> & { active: boolean };
export type TriggerWorkflow = {
  recipients?: EventRecipient[];
  audienceId?: string;
  data?: Json;
  actor?: { type: string; id: string; name?: string };
  idempotencyKey?: string;
  cancellationKey?: string;
};
export type RunStatus = "pending" | "running" | "waiting" | "completed" | "cancelled" | "failed" | "throttled" | "digested";
export type RunStep = {
  id: string;
  type: string;
  status: "pending" | "running" | "waiting" | "done" | "skipped" | "failed";
  outcome: string | null;
  startedAt: Timestamp | null;
  finishedAt: Timestamp | null;
  output: unknown;
  communicationIds: string[] | null;
};
export type WorkflowRun = {
  id: string;
  workflowKey: string;
  version: number;
  status: RunStatus;
  recipient: { type: string; id: string | null };
  data: Json;
  actor: { type: string; id: string; name?: string } | null;
  cancellationKey: string | null;
  /** Why a cancelled run was cancelled: `cancellation key <key>`, or the reason given to cancelRun. */
  cancelReason: string | null;
  createdAt: Timestamp | null;
  updatedAt: Timestamp | null;
  finishedAt: Timestamp | null;
  steps: RunStep[];
};
export type Triggered = { workflowKey: string; version: number; runs: { id: string; recipient: { type: string; id: string } }[] };
export type RunsQuery = { status?: RunStatus; recipientType?: string; recipientId?: string; cursor?: string; limit?: number };
export type WorkflowTemplate = WorkflowDefinition & { key: string; useCase: string; triggerEvents: string[] };
export type CopyWorkflowTemplate = { key?: string; name?: string };
