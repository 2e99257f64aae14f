/**
 * The send request a campaign makes for one member: the variant's template or content, the
 * campaign's type and variables merged with the member's, low priority (bulk yields to
 * transactional traffic), and the member's inline contact for the campaign's channel. With
 * `channel: "auto"` the recipient's preferences route it (one channel, the first allowed); a
 * member with no preferences on file falls back to their inline email, then phone.
 */
import type { MemberRow } from "../db/audiences";
import type { CampaignRow } from "../db/campaigns";
import type { CampaignVariant } from "../db/schema";
import type { Channel } from "../domain";

const inline = (channel: Channel, m: MemberRow) => (channel === "email" ? m.email : channel === "sms" || channel === "whatsapp" ? m.phone : null) ?? undefined;

export function memberRequest(c: CampaignRow, v: CampaignVariant, m: MemberRow, hasPreferences: boolean, ready: Set<Channel>): Record<string, unknown> {
  const base = {
    type: c.type,
    recipientType: m.recipientType,
    recipientId: m.recipientId,
    recipientName: m.name ?? undefined,
    priority: "low",
    templateId: v.templateId,
    templateCode: v.templateCode,
    subject: v.subject,
    content: v.content,
    templateVariables: c.templateVariables || m.variables ? { ...c.templateVariables, ...m.variables } : undefined,
  };
  if (c.channel !== "auto") return { ...base, channel: c.channel, recipientContact: inline(c.channel, m) };
  if (!hasPreferences) {
    if (m.email && ready.has("email")) return { ...base, channel: "email", recipientContact: m.email };
    if (m.phone && ready.has("sms")) return { ...base, channel: "sms", recipientContact: m.phone };
  }
  return { ...base, channel: "auto", strategy: "first" };
}
