/** What travels on the campaigns queue: which campaign, which phase, and the member to start after. */
import { z } from "zod";
import type { MemberKey } from "../db/audiences";
import type { CampaignPhase } from "../db/schema";

export const CampaignMessage = z.object({
  v: z.literal(1),
  tenantId: z.string().min(1),
  campaignId: z.string().min(1),
  phase: z.enum(["test", "main"]),
  after: z.object({ recipientType: z.string(), recipientId: z.string() }).nullable(),
});
export type CampaignMessage = z.infer<typeof CampaignMessage>;

export const chunkMessage = (c: { tenantId: string; id: string; phase: CampaignPhase }, after: MemberKey | null): CampaignMessage => ({
  v: 1,
  tenantId: c.tenantId,
  campaignId: c.id,
  phase: c.phase,
  after: after ? { recipientType: after.recipientType, recipientId: after.recipientId } : null,
});

export const cursorOf = (c: { cursorType: string | null; cursorId: string | null }): MemberKey | null =>
  c.cursorType !== null && c.cursorId !== null ? { recipientType: c.cursorType, recipientId: c.cursorId } : null;

export const sameCursor = (a: MemberKey | null, b: MemberKey | null) =>
  a === null || b === null ? a === b : a.recipientType === b.recipientType && a.recipientId === b.recipientId;

export const cursorKey = (k: MemberKey | null) => (k ? `${k.recipientType}\u0000${k.recipientId}` : "");
