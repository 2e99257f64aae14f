/**
 * branch: the first path whose conditions all hold runs next, else `otherwise`. Decided once in
 * a durable step (conditions read earlier sends' outcomes fresh), so a replay takes the same path.
 */
import type { Step } from "../definition";
import { conditionsHold } from "../facts";
import { durably, stepName, type StepRunner } from "./types";

type BranchStep = Extract<Step, { type: "branch" }>;

export const runBranch: StepRunner<BranchStep> = async (step, ctx, s) => {
  const chosen = await durably(step, stepName(s, "decide"), async () => {
    for (const [i, p] of s.paths.entries()) if (await conditionsHold(ctx, p.when)) return i;
    return -1;
  });
  return {
    outcome: "completed",
    output: { path: chosen === -1 ? "otherwise" : chosen },
    next: chosen === -1 ? s.otherwise : s.paths[chosen]!.steps,
  };
};
