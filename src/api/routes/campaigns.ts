/**
 * /api/campaigns: one message (or A/B variants) to an audience. Creating one stores it as a
 * draft (or scheduled, with scheduledAt); `send` starts the fan-out, which runs on the campaigns
 * queue (src/campaigns/fanout.ts), never on the request. `pause`, `resume`, `cancel` and
 * `winner` change its course; GET shows progress and per-variant results.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { jsonBody, queryOf } from "../validate";
import { countMembers } from "../../db/audiences";
import { campaignCounts, getCampaign, insertCampaign, listCampaigns, type CampaignRow } from "../../db/campaigns";
import { channelsWithProviders } from "../../db/providers";
import { AppError, notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { noProviderError } from "../../pipeline/accept";
import { campaignDeps } from "../../campaigns/deps";
import { checkReferences, CreateCampaign, variantsOf } from "../../campaigns/create";
import { cancelCampaign, chooseWinner, pauseCampaign, resumeCampaign, startCampaign } from "../../campaigns/lifecycle";
import { campaignDto } from "../../campaigns/progress";

export const ListQuery = z
  .object({ page: z.coerce.number().int().min(1).default(1), size: z.coerce.number().int().min(1).max(100).default(20) })
  .strict();
export const Winner = z.object({ variant: z.string().min(1) }).strict();

async function found(c: Context<AppEnv>) {
  const row = await getCampaign(c.var.db, c.var.tenantId, c.req.param("id")!);
  if (!row) throw notFound("campaign");
  return row;
}

const conflict = (c: CampaignRow, action: string, allowed: string) =>
  new AppError("conflict", `a ${c.status} campaign cannot ${action}; only ${allowed} ones can`);

async function detail(c: Context<AppEnv>, row: CampaignRow) {
  const [counts, members] = await Promise.all([campaignCounts(c.var.db, row.tenantId, row.id), countMembers(c.var.db, row.tenantId, row.audienceId)]);
  return campaignDto(row, counts, members[0]?.n ?? 0);
}

export const campaigns = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateCampaign);
    await checkReferences(c.var.db, c.var.tenantId, body);
    const now = new Date();
    const variants = variantsOf(body);
    const scheduledAt = body.scheduledAt ? new Date(body.scheduledAt) : null;
    const row = await insertCampaign(c.var.db, {
      id: uuidv7(),
      tenantId: c.var.tenantId,
      createdBy: c.var.apiKeyId,
      name: body.name,
      audienceId: body.audienceId,
      channel: body.channel,
      type: body.type,
      variants,
      templateVariables: body.templateVariables ?? null,
      testPercent: variants.length > 1 ? (body.testPercent ?? 20) : 0,
      testDurationMinutes: variants.length > 1 ? (body.testDurationMinutes ?? 60) : null,
      winnerMetric: body.winnerMetric ?? null,
      winner: null,
      winnerPickedBy: null,
      status: scheduledAt ? "scheduled" : "draft",
      phase: "main",
      sendRate: body.sendRate ?? null,
      scheduledAt,
      cursorType: null,
      cursorId: null,
      nextChunkAt: null,
      processed: 0,
      skipped: 0,
      lastError: null,
      startedAt: null,
      testEndsAt: null,
      completedAt: null,
      cancelledAt: null,
      createdAt: now,
      updatedAt: now,
    });
    return c.json(campaignDto(row), 201);
  })
  .get("/", async (c) => {
    const q = queryOf(c, ListQuery);
    const { results, count } = await listCampaigns(c.var.db, c.var.tenantId, q.page, q.size);
    return c.json({ results: results.map((r) => campaignDto(r)), count, page: q.page, size: q.size });
  })
  .get("/:id", async (c) => c.json(await detail(c, await found(c))))
  .post("/:id/send", async (c) => {
    const row = await found(c);
    if (row.status !== "draft" && row.status !== "scheduled") throw conflict(row, "be sent", "draft or scheduled");
    if (row.channel !== "auto" && row.channel !== "in_app") {
      const ready = await channelsWithProviders(c.var.db, row.tenantId);
      if (!ready.some((r) => r.channel === row.channel)) throw noProviderError(row.channel);
    }
    const started = await startCampaign(campaignDeps(c.env), row, ["draft", "scheduled"], new Date());
    if (!started) throw conflict(row, "be sent", "draft or scheduled");
    return c.json(await detail(c, started), 202);
  })
  .post("/:id/pause", async (c) => {
    const row = await found(c);
    const paused = await pauseCampaign(campaignDeps(c.env), row, new Date());
    if (!paused) throw conflict(row, "be paused", "sending");
    return c.json(await detail(c, paused));
  })
  .post("/:id/resume", async (c) => {
    const row = await found(c);
    const resumed = await resumeCampaign(campaignDeps(c.env), row, new Date());
    if (!resumed) throw conflict(row, "be resumed", "paused");
    return c.json(await detail(c, resumed));
  })
  .post("/:id/cancel", async (c) => {
    const row = await found(c);
    const done = await cancelCampaign(campaignDeps(c.env), row, new Date());
    if (!done) throw conflict(row, "be cancelled", "draft, scheduled, sending, paused or testing");
    return c.json({ ...(await detail(c, done.campaign)), cancelledMessages: done.cancelledMessages });
  })
  .post("/:id/winner", async (c) => {
    const row = await found(c);
    const { variant } = await jsonBody(c, Winner);
    if (row.variants.length < 2) throw new AppError("conflict", "this campaign has no A/B test");
    if (!row.variants.some((v) => v.name === variant)) {
      throw new AppError("validation_failed", `variant: no variant named "${variant}"`, [{ field: "variant", message: `one of ${row.variants.map((v) => v.name).join(", ")}` }]);
    }
    if (row.winner || !["sending", "paused", "testing"].includes(row.status) || row.phase !== "test") throw new AppError("conflict", row.winner ? `the winner is already ${row.winner}` : `a ${row.status} campaign's test cannot be decided now`);
    const moved = await chooseWinner(campaignDeps(c.env), row, variant, new Date());
    if (!moved) throw new AppError("conflict", "the campaign changed meanwhile; read it again");
    return c.json(await detail(c, moved));
  });
