/**
 * The campaigns' cron pass, run every minute by the API Worker: start scheduled campaigns that
 * are due, restart fan-out chains whose next message is overdue (lost, or its consumer died), and
 * send the winner of A/B tests whose time is up. Bounded per run and idempotent: each step is a
 * conditional update, and a chain restarted twice creates nothing twice (chunk records).
 */
import { dueCampaigns } from "../db/campaigns";
import type { CampaignDeps } from "./deps";
import { decideWinner, restartChain, startCampaign } from "./lifecycle";

/** A chunk message later than this past its due time is taken as lost. */
export const STALL_GRACE_MS = 2 * 60_000;
const PER_RUN = 100;

export async function runCampaignPass(d: CampaignDeps, now: Date) {
  const [due, stalled, tested] = await dueCampaigns(d.db, now, new Date(now.getTime() - STALL_GRACE_MS), PER_RUN);
  let started = 0;
  let restarted = 0;
  let decided = 0;
  for (const c of due) if (await startCampaign(d, c, ["scheduled"], now)) started++;
  for (const c of stalled) if (await restartChain(d, c, now)) restarted++;
  for (const c of tested) if (await decideWinner(d, c, now)) decided++;
  return { started, restarted, decided };
}
