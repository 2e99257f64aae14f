/**
 * A workflow's steps as tenants write them (JSON, validated here): the one contract between the
 * API, the engine (Cloudflare Workflows), the ready-made templates, the console and the client.
 *
 * Steps run in order. `branch`, `wait_for_event` and `escalate` hold nested steps, so a journey
 * is a tree, not a graph: each path is readable top to bottom, and every step has an `id` unique
 * in the whole workflow, which conditions (`steps.<id>.outcome`) and the run view refer to, and
 * which names the durable step in the engine (Workflows replays steps by name, so names must be
 * stable and unique).
 *
 * Conditions reuse the trigger rules' operators; their `field` is rooted in what a run knows:
 * `data.*` (the trigger's payload), `recipient.*` (profile: `recipient.locale`, `recipient.roles`),
 * `preferences.<type>.<channel>` (true/false), `actor.*`, and `steps.<id>.outcome` (one of
 * STEP_OUTCOMES).
 */
import { z } from "zod";
import { CHANNELS, Channel, Priority } from "../domain";
import { EventType } from "../automation/event";
import { RuleCondition } from "../automation/rule";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug (a-z, 0-9, _ . -), at most 64 characters");
const StepId = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be a step id (a-z, 0-9, _ -), at most 40 characters");

/** `30s`, `15m`, `2h`, `7d`: the units journeys are written in. */
export const Duration = z.string().regex(/^[1-9]\d{0,5}(s|m|h|d)$/, "must be a duration such as 30s, 15m, 2h or 7d");
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
export function durationSeconds(d: string): number {
  return Number(d.slice(0, -1)) * UNIT_SECONDS[d.slice(-1) as keyof typeof UNIT_SECONDS];
}
/** Workflows sleeps at most 365 days (../shared/reference/cloudflare.md §1.10). */
export const MAX_WAIT_SECONDS = 365 * 86400;

/** What became of a step, as branches and escalations read it (`steps.<id>.outcome`). */
export const STEP_OUTCOMES = [
  "sent", // accepted by the pipeline, no receipt yet
  "delivered",
  "opened",
  "clicked",
  "read", // read in the in-app inbox
  "failed",
  "suppressed",
  "skipped", // its conditions did not hold, or preferences left no channel
  "event_received", // wait_for_event: the event came
  "timed_out", // wait_for_event: it did not
  "throttled",
  "completed", // a delay elapsed, a branch chose its path: steps that send nothing themselves
] as const;
export const StepOutcome = z.enum(STEP_OUTCOMES);
export type StepOutcome = z.infer<typeof StepOutcome>;

const Conditions = z.array(RuleCondition).max(10);
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day such as 09:00");

/** One message through the normal pipeline (preferences, suppressions, quiet hours, failover). */
const SendStep = z
  .object({
    type: z.literal("send"),
    id: StepId,
    /** One channel, or `auto`: the recipient's preferred among `channels` (all of them when absent). */
    channel: z.union([Channel, z.literal("auto")]),
    channels: z.array(Channel).min(1).max(CHANNELS.length).optional(),
    templateCode: slug.optional(),
    /** Inline content instead of a template; mustache over the run's data. */
    subject: z.string().max(998).optional(),
    content: z.string().max(100_000).optional(),
    /** The message type preferences and stats see; defaults to the template's code or the workflow's key. */
    messageType: slug.optional(),
    priority: Priority.default("normal"),
    /** Skip this step (outcome `skipped`) unless every condition holds. */
    when: Conditions.optional(),
  })
  .strict()
  .refine((s) => !!s.templateCode !== !!s.content, { message: "give templateCode or content (one of them)", path: ["templateCode"] })
  .refine((s) => s.channel === "auto" || !s.channels, { message: "channels is only for channel: auto", path: ["channels"] });

const DelayStep = z
  .object({
    type: z.literal("delay"),
    id: StepId,
    /** A fixed wait… */
    duration: Duration.optional(),
    /** …or until the ISO time at this path of the payload (`data.dueAt`)… */
    untilField: z.string().regex(/^data(\.[A-Za-z0-9_]+)+$/, "must be a path into the payload, e.g. data.dueAt").optional(),
    /** …or until the next such time of day, in `timeZone` (`recipient`: the recipient's own). */
    untilTimeOfDay: TimeOfDay.optional(),
    timeZone: z.string().max(64).default("recipient"),
  })
  .strict()
  .refine((s) => [s.duration, s.untilField, s.untilTimeOfDay].filter(Boolean).length === 1, {
    message: "give one of duration, untilField or untilTimeOfDay",
    path: ["duration"],
  });

const DigestStep = z
  .object({
    type: z.literal("digest"),
    id: StepId,
    /** Triggers with the same value at this payload path are collected together (`data.projectId`). */
    key: z.string().regex(/^data(\.[A-Za-z0-9_]+)+$/, "must be a path into the payload, e.g. data.projectId").optional(),
    /** Collect for a fixed window after the first trigger… */
    window: Duration.optional(),
    /** …or until the next such time of day, in `timeZone`. */
    untilTimeOfDay: TimeOfDay.optional(),
    timeZone: z.string().max(64).default("recipient"),
    /** Events kept for templates (`digest.events`); `digest.count` counts them all. */
    maxEvents: z.number().int().min(1).max(100).default(50),
  })
  .strict()
  .refine((s) => !!s.window !== !!s.untilTimeOfDay, { message: "give window or untilTimeOfDay (one of them)", path: ["window"] });

const ThrottleStep = z
  .object({
    type: z.literal("throttle"),
    id: StepId,
    /** At most `limit` runs per recipient (and per `key`, when given) pass within `window`; the rest end `throttled`. */
    limit: z.number().int().min(1).max(10_000),
    window: Duration,
    key: z.string().regex(/^data(\.[A-Za-z0-9_]+)+$/, "must be a path into the payload").optional(),
  })
  .strict();

const StartReminderStep = z
  .object({
    type: z.literal("start_reminder"),
    id: StepId,
    /** A reminder sequence (src/automation/reminders.ts) for the entity at `entityField`. */
    name: slug,
    entityField: z.string().regex(/^data(\.[A-Za-z0-9_]+)+$/, "must be a path into the payload, e.g. data.invoiceId"),
    templateCode: slug,
    channels: z.array(Channel).min(1).max(CHANNELS.length),
    every: Duration,
    maxSteps: z.number().int().min(1).max(20),
    cancelOn: z.array(EventType).max(10).default([]),
  })
  .strict();

export type Step =
  | z.infer<typeof SendStep>
  | z.infer<typeof DelayStep>
  | z.infer<typeof DigestStep>
  | z.infer<typeof ThrottleStep>
  | z.infer<typeof StartReminderStep>
  | BranchStep
  | WaitForEventStep
  | EscalateStep;

export type BranchStep = { type: "branch"; id: string; paths: { when: RuleCondition[]; steps: Step[] }[]; otherwise: Step[] };
export type WaitForEventStep = { type: "wait_for_event"; id: string; event: string; timeout: string; onEvent: Step[]; onTimeout: Step[] };
/** Sugar over wait + branch: unless the `after` step reached `unless` within `within`, run `send`. */
export type EscalateStep = {
  type: "escalate";
  id: string;
  after: string;
  within: string;
  unless: "delivered" | "opened" | "clicked" | "read";
  send: z.infer<typeof SendStep>;
};

export const StepSchema: z.ZodType<Step> = z.lazy(() =>
  z.union([
    SendStep,
    DelayStep,
    DigestStep,
    ThrottleStep,
    StartReminderStep,
    z
      .object({
        type: z.literal("branch"),
        id: StepId,
        paths: z.array(z.object({ when: Conditions.min(1), steps: z.array(StepSchema).max(50) }).strict()).min(1).max(10),
        otherwise: z.array(StepSchema).max(50).default([]),
      })
      .strict(),
    z
      .object({
        type: z.literal("wait_for_event"),
        id: StepId,
        event: EventType,
        timeout: Duration,
        onEvent: z.array(StepSchema).max(50).default([]),
        onTimeout: z.array(StepSchema).max(50).default([]),
      })
      .strict(),
    z
      .object({
        type: z.literal("escalate"),
        id: StepId,
        after: StepId,
        within: Duration,
        unless: z.enum(["delivered", "opened", "clicked", "read"]),
        send: SendStep,
      })
      .strict(),
  ]),
) as z.ZodType<Step>;

/** Every step in the tree, depth first, with the path of its JSON position (for error messages). */
export function* walkSteps(steps: Step[], path: (string | number)[] = ["steps"]): Generator<{ step: Step; path: (string | number)[] }> {
  for (const [i, step] of steps.entries()) {
    const here = [...path, i];
    yield { step, path: here };
    if (step.type === "branch") {
      for (const [j, p] of step.paths.entries()) yield* walkSteps(p.steps, [...here, "paths", j, "steps"]);
      yield* walkSteps(step.otherwise, [...here, "otherwise"]);
    } else if (step.type === "wait_for_event") {
      yield* walkSteps(step.onEvent, [...here, "onEvent"]);
      yield* walkSteps(step.onTimeout, [...here, "onTimeout"]);
    } else if (step.type === "escalate") {
      yield { step: step.send, path: [...here, "send"] };
    }
  }
}

/** At most this many steps in one workflow: far under Workflows' 10,000 per instance, with room for retries. */
export const MAX_STEPS = 200;

export const WorkflowDefinition = z
  .object({
    name: z.string().min(1).max(100),
    description: z.string().max(1000).optional(),
    steps: z.array(StepSchema).min(1).max(50),
    /** Business events (`POST /api/events`) that trigger this workflow for the event's recipients. */
    triggerEvents: z.array(EventType).max(10).default([]),
  })
  .strict()
  .superRefine((w, ctx) => {
    const seen = new Map<string, Step>();
    let count = 0;
    for (const { step, path } of walkSteps(w.steps)) {
      count++;
      if (seen.has(step.id)) ctx.addIssue({ code: "custom", path: [...path, "id"], message: `step id "${step.id}" is used twice` });
      // An escalation watches a send that runs before it on the same path, or earlier in the tree.
      if (step.type === "escalate" && seen.get(step.after)?.type !== "send") {
        ctx.addIssue({ code: "custom", path: [...path, "after"], message: `"${step.after}" must be the id of a send step before this one` });
      }
      seen.set(step.id, step);
    }
    if (count > MAX_STEPS) ctx.addIssue({ code: "custom", path: ["steps"], message: `at most ${MAX_STEPS} steps in a workflow (this one has ${count})` });
  });
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;

/** Workflow keys are the trigger's address: `POST /api/workflows/:key/trigger`. */
export const WorkflowKey = slug;
