/**
 * escalate: sugar over wait + branch. Sleeps `within`, then reads the watched send's outcome
 * fresh; unless it reached `unless` (delivered < opened < read < clicked), its `send` runs next
 * as a step of its own (its own row in the run view, its communications linked to its id).
 */
import { durationSeconds, type Step } from "../definition";
import { freshOutcomes, reached } from "../facts";
import { durably, stepName, type StepRunner } from "./types";

type EscalateStep = Extract<Step, { type: "escalate" }>;

export const runEscalate: StepRunner<EscalateStep> = async (step, ctx, s) => {
  await step.sleep(stepName(s, "within"), `${durationSeconds(s.within)} seconds`);
  const watched = await durably(step, stepName(s, "check"), async () => (await freshOutcomes(ctx))[s.after] ?? null);
  if (watched && reached(watched, s.unless)) return { outcome: watched, output: { watched: s.after, escalated: false } };
  return { outcome: watched ?? "skipped", output: { watched: s.after, escalated: true }, next: [s.send] };
};
