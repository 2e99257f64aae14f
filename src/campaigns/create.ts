/**
 * The body of POST /api/campaigns, validated at the edge, and the checks that need the database:
 * the audience exists, each variant's template exists and suits the channel. A campaign has one
 * message (a template or inline content), or two to ten variants for an A/B test.
 */
import { z } from "zod";
import type { Db } from "../db/client";
import { getAudience } from "../db/audiences";
import type { CampaignVariant } from "../db/schema";
import { Channel } from "../domain";
import { AppError, type FieldError } from "../lib/errors";
import { templateByCode, templateById } from "../templates/catalog";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug (a-z, 0-9, _ . -), at most 64 characters");
const noLineBreaks = (s: string) => !/[\r\n]/.test(s);

const message = {
  templateId: z.string().min(1).optional(),
  templateCode: slug.optional(),
  subject: z.string().max(500).refine(noLineBreaks, "must not contain line breaks").optional(),
  content: z.string().min(1).max(500_000).optional(),
};

const Variant = z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "1–32 letters, digits, _ or -"), ...message }).strict();

export const CreateCampaign = z
  .object({
    name: z.string().trim().min(1).max(200),
    audienceId: z.string().min(1),
    channel: z.union([Channel, z.literal("auto")]),
    type: slug.default("marketing"),
    ...message,
    variants: z.array(Variant).min(2).max(10).optional(),
    testPercent: z.number().int().min(1).max(100).optional(),
    testDurationMinutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
    winnerMetric: z.enum(["opened", "clicked", "delivered"]).optional(),
    templateVariables: z.record(z.string(), z.unknown()).optional(),
    scheduledAt: z.iso.datetime({ offset: true }).optional(),
    /** Messages per minute. */
    sendRate: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], msg: string) => ctx.addIssue({ code: "custom", path, message: msg });
    const single = c.templateId ?? c.templateCode ?? c.content;
    if (c.variants && single) issue(["variants"], "give variants, or one templateId, templateCode or content, not both");
    if (!c.variants && !single) issue(["templateId"], "give templateId, templateCode, content or variants");
    const each = c.variants ?? [{ name: "A", templateId: c.templateId, templateCode: c.templateCode, subject: c.subject, content: c.content }];
    each.forEach((v, i) => {
      const at = (f: string) => (c.variants ? ["variants", i, f] : [f]);
      const given = [v.templateId, v.templateCode, v.content].filter((x) => x !== undefined).length;
      if (given > 1) issue(at("content"), "give one of templateId, templateCode or content");
      if (v.templateCode && c.channel === "auto") issue(at("templateCode"), "a routed campaign (channel auto) names templates by templateId");
      if (v.content && c.channel === "email" && !v.subject) issue(at("subject"), "email needs a subject");
    });
    if (c.variants && new Set(c.variants.map((v) => v.name)).size !== c.variants.length) issue(["variants"], "variant names must differ");
    if (!c.variants && (c.testPercent || c.testDurationMinutes || c.winnerMetric)) issue(["variants"], "testPercent, testDurationMinutes and winnerMetric need variants");
    if (c.winnerMetric === "opened" && c.channel !== "email" && c.channel !== "auto") issue(["winnerMetric"], `${c.channel} reports no opens; use delivered or clicked`);
  });
export type CreateCampaign = z.infer<typeof CreateCampaign>;

export const variantsOf = (c: CreateCampaign): CampaignVariant[] =>
  (c.variants ?? [{ name: "A", templateId: c.templateId, templateCode: c.templateCode, subject: c.subject, content: c.content }]).map((v) =>
    Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as CampaignVariant,
  );

/** The checks zod cannot make: a 422 naming every field that points at nothing usable. */
export async function checkReferences(db: Db, tenantId: string, c: CreateCampaign) {
  const errors: FieldError[] = [];
  if (!(await getAudience(db, tenantId, c.audienceId))) errors.push({ field: "audienceId", message: "no such audience" });
  const variants = variantsOf(c);
  for (const [i, v] of variants.entries()) {
    const at = (f: string) => (c.variants ? `variants.${i}.${f}` : f);
    if (v.templateId) {
      const t = await templateById(db, tenantId, v.templateId);
      if (!t) errors.push({ field: at("templateId"), message: "no such template" });
      else if (c.channel !== "auto" && t.channel !== c.channel) errors.push({ field: at("templateId"), message: `is a ${t.channel} template; this campaign is ${c.channel}` });
      else if (!t.isActive) errors.push({ field: at("templateId"), message: "the template is inactive" });
    }
    if (v.templateCode && c.channel !== "auto" && !(await templateByCode(db, tenantId, v.templateCode, c.channel, undefined))) {
      errors.push({ field: at("templateCode"), message: `no active template "${v.templateCode}" for ${c.channel}` });
    }
  }
  if (errors.length) throw new AppError("validation_failed", `invalid campaign: ${errors.map((e) => e.field).join(", ")}`, errors);
}
