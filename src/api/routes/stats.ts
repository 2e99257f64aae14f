/**
 * GET /api/communications/stats (seed §4.1, §12): read from the daily rollups, so the answer
 * costs the same for a tenant with a million communications as for one with ten.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { queryOf } from "../validate";
import { costRows, dayOf, METRICS, statsRows, type Metric } from "../../db/stats";
import { silentFailoversBetween } from "../../db/provider-health";
import { AppError } from "../../lib/errors";

export const StatsQuery = z
  .object({
    startDate: z.iso.date().optional(),
    endDate: z.iso.date().optional(),
  })
  .strict();

const DAY_MS = 86_400_000;
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : 0);

export const stats = new Hono<AppEnv>().get("/stats", async (c) => {
  const q = queryOf(c, StatsQuery);
  const endDate = q.endDate ?? dayOf(new Date());
  const startDate = q.startDate ?? dayOf(new Date(Date.parse(endDate) - 29 * DAY_MS));
  if (startDate > endDate) {
    throw new AppError("validation_failed", "startDate is after endDate", [{ field: "startDate", message: "must not be after endDate" }]);
  }
  const [rows, silences, costs] = await Promise.all([
    statsRows(c.var.db, c.var.tenantId, startDate, endDate),
    silentFailoversBetween(c.var.db, c.var.tenantId, startDate, endDate),
    costRows(c.var.db, c.var.tenantId, startDate, endDate),
  ]);
  const silentFailovers = new Map<string, { providerConfigId: string; provider: string; count: number }>();
  for (const s of silences) {
    const entry = silentFailovers.get(s.providerConfigId) ?? { providerConfigId: s.providerConfigId, provider: s.provider, count: 0 };
    entry.count += s.silentFailovers;
    silentFailovers.set(s.providerConfigId, entry);
  }
  const total = Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>;
  const byChannel: Record<string, number> = {};
  const byType: Record<string, number> = {};
  // Per day and channel (types summed), for charts over time: at most days × channels entries.
  const daily = new Map<string, { day: string; channel: string } & Record<Metric, number>>();
  let latencyMs = 0;
  let latencyCount = 0;
  for (const r of rows) {
    for (const m of METRICS) total[m] += r[m];
    byChannel[r.channel] = (byChannel[r.channel] ?? 0) + r.accepted;
    byType[r.type] = (byType[r.type] ?? 0) + r.accepted;
    const key = `${r.day} ${r.channel}`;
    const entry = daily.get(key) ?? { day: r.day, channel: r.channel, ...(Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>) };
    for (const m of METRICS) entry[m] += r[m];
    daily.set(key, entry);
    latencyMs += r.sendLatencyMs;
    latencyCount += r.sendLatencyCount;
  }
  // One entry per currency: amounts in different currencies are never added together.
  const cost = new Map<string, { currency: string; micros: number; priced: number; byChannel: Record<string, number> }>();
  for (const r of costs) {
    const entry = cost.get(r.currency) ?? { currency: r.currency, micros: 0, priced: 0, byChannel: {} };
    entry.micros += r.costMicros;
    entry.priced += r.priced;
    entry.byChannel[r.channel] = (entry.byChannel[r.channel] ?? 0) + r.costMicros;
    cost.set(r.currency, entry);
  }
  return c.json({
    startDate,
    endDate,
    totalAccepted: total.accepted,
    totalSent: total.sent,
    byChannel,
    byType,
    /** How many of the period's communications reached each state. */
    byStatus: Object.fromEntries(METRICS.filter((m) => m !== "accepted").map((m) => [m, total[m]])),
    deliveryRate: ratio(total.delivered, total.sent),
    openRate: ratio(total.opened, total.delivered),
    clickRate: ratio(total.clicked, total.delivered),
    bounceRate: ratio(total.bounced, total.sent),
    failureRate: ratio(total.failed, total.accepted),
    averageSendLatencyMs: latencyCount ? Math.round(latencyMs / latencyCount) : null,
    /** Per provider: how often it accepted a message and then went silent past the receipt window. */
    silentFailovers: [...silentFailovers.values()],
    /** Provider cost of the period's sends, per currency; `micros` are millionths of the unit. */
    cost: [...cost.values()].map((e) => ({
      currency: e.currency,
      amount: e.micros / 1_000_000,
      micros: e.micros,
      priced: e.priced,
      byChannel: Object.fromEntries(Object.entries(e.byChannel).map(([ch, m]) => [ch, m / 1_000_000])),
    })),
    /** Each day's counts per channel, oldest first; days without traffic are left out. */
    daily: [...daily.values()].sort((a, b) => a.day.localeCompare(b.day) || a.channel.localeCompare(b.channel)),
  });
});
