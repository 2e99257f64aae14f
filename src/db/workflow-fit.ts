/**
 * Digest and throttle bookkeeping for workflow steps, each decision in one D1 batch (one
 * transaction): concurrent runs are serialised by D1, so exactly one opens a digest window and
 * each throttled run gets a stable rank. Plain prepared statements: the INSERT … SELECT forms
 * below have no drizzle builder.
 */
export type DigestJoin = { digestId: string | null; ownerRunId: string | null; eventRunId: string; closesAt: number | null };

/**
 * Opens the scope's window unless one is open (or this event was already counted), adds the event
 * to the open window unless the scope has it, and reads back who owns the event and the window.
 */
export async function joinDigest(
  d1: D1Database,
  j: { id: string; tenantId: string; scope: string; workflowKey: string; stepId: string; recipientKey: string; digestKey: string; runId: string; eventKey: string; data: Record<string, unknown>; closesAt: number; now: number },
): Promise<DigestJoin> {
  const [, , ev, dg] = await d1.batch([
    d1
      .prepare(
        `INSERT INTO workflow_digest (id, tenant_id, scope, workflow_key, step_id, recipient_key, digest_key, owner_run_id, status, closes_at, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9, ?10
         WHERE NOT EXISTS (SELECT 1 FROM workflow_digest_event WHERE tenant_id = ?2 AND scope = ?3 AND event_key = ?11)
         ON CONFLICT DO NOTHING`,
      )
      .bind(j.id, j.tenantId, j.scope, j.workflowKey, j.stepId, j.recipientKey, j.digestKey, j.runId, j.closesAt, j.now, j.eventKey),
    d1
      .prepare(
        `INSERT INTO workflow_digest_event (tenant_id, scope, event_key, digest_id, run_id, data, created_at)
         SELECT ?1, ?2, ?3, id, ?4, ?5, ?6 FROM workflow_digest WHERE tenant_id = ?1 AND scope = ?2 AND status = 'open'
         ON CONFLICT DO NOTHING`,
      )
      .bind(j.tenantId, j.scope, j.eventKey, j.runId, JSON.stringify(j.data), j.now),
    d1.prepare(`SELECT run_id, digest_id FROM workflow_digest_event WHERE tenant_id = ?1 AND scope = ?2 AND event_key = ?3`).bind(j.tenantId, j.scope, j.eventKey),
    d1
      .prepare(`SELECT d.id, d.owner_run_id, d.closes_at FROM workflow_digest d JOIN workflow_digest_event e ON e.digest_id = d.id WHERE e.tenant_id = ?1 AND e.scope = ?2 AND e.event_key = ?3`)
      .bind(j.tenantId, j.scope, j.eventKey),
  ]);
  const event = ev!.results[0] as { run_id: string } | undefined;
  const digest = dg!.results[0] as { id: string; owner_run_id: string; closes_at: number } | undefined;
  return { digestId: digest?.id ?? null, ownerRunId: digest?.owner_run_id ?? null, eventRunId: event?.run_id ?? j.runId, closesAt: digest?.closes_at ?? null };
}

/** Closes the window (later triggers open a new one) and reads what it collected, oldest first. */
export async function closeDigest(d1: D1Database, tenantId: string, digestId: string, maxEvents: number, now: number) {
  const [, count, events] = await d1.batch([
    d1.prepare(`UPDATE workflow_digest SET status = 'closed', closed_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND status = 'open'`).bind(tenantId, digestId, now),
    d1.prepare(`SELECT count(*) AS n FROM workflow_digest_event WHERE tenant_id = ?1 AND digest_id = ?2`).bind(tenantId, digestId),
    d1.prepare(`SELECT data FROM workflow_digest_event WHERE tenant_id = ?1 AND digest_id = ?2 ORDER BY created_at, rowid LIMIT ?3`).bind(tenantId, digestId, maxEvents),
  ]);
  return {
    count: (count!.results[0] as { n: number }).n,
    events: (events!.results as { data: string }[]).map((r) => JSON.parse(r.data) as Record<string, unknown>),
  };
}

/** Records this run in the window (once, however often the step retries) and returns its rank there. */
export async function throttleRank(d1: D1Database, t: { tenantId: string; scope: string; windowStart: number; runId: string; now: number }): Promise<number> {
  const [, rank] = await d1.batch([
    d1
      .prepare(`INSERT INTO workflow_throttle_hit (tenant_id, scope, window_start, run_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING`)
      .bind(t.tenantId, t.scope, t.windowStart, t.runId, t.now),
    d1
      .prepare(
        `SELECT count(*) AS n FROM workflow_throttle_hit WHERE tenant_id = ?1 AND scope = ?2 AND window_start = ?3
         AND seq <= (SELECT seq FROM workflow_throttle_hit WHERE tenant_id = ?1 AND scope = ?2 AND window_start = ?3 AND run_id = ?4)`,
      )
      .bind(t.tenantId, t.scope, t.windowStart, t.runId),
  ]);
  return (rank!.results[0] as { n: number }).n;
}

/** The tenant's live workflows whose active version lists `eventType` among its triggerEvents. */
export async function workflowsTriggeredBy(d1: D1Database, tenantId: string, eventType: string) {
  const { results } = await d1
    .prepare(
      `SELECT w.key AS key, w.active_version AS version FROM workflow w
       JOIN workflow_version v ON v.workflow_id = w.id AND v.version = w.active_version
       WHERE w.tenant_id = ?1 AND w.archived_at IS NULL AND EXISTS (SELECT 1 FROM json_each(v.trigger_events) WHERE value = ?2)
       ORDER BY w.key`,
    )
    .bind(tenantId, eventType)
    .all<{ key: string; version: number }>();
  return results;
}
