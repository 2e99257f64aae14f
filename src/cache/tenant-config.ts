/**
 * A per-isolate snapshot of one tenant's control plane: its settings, its enabled provider
 * configs (and their opened adapters), its webhook endpoints and the templates its sends have
 * looked up. The hot paths (accepting a send, fanning an event out, delivering) read these on
 * every message; they change a few times a day. Without the snapshot a send pays a D1 round trip
 * for rows that are almost always what they were a second ago.
 *
 * How fresh it is: every control-plane write bumps `tenant.config_version` in the same batch as
 * the write (bumpConfigVersion) and then forgets the snapshot in its own isolate
 * (forgetTenantConfig), so the writer's isolate sees the change at once. Any other isolate keeps
 * its snapshot for at most TTL_MS; then one one-column query compares versions and either keeps
 * the snapshot for another TTL_MS or reads it afresh in one batch. A change is therefore seen
 * everywhere within TTL_MS plus one request's time.
 *
 * Isolate-wide on purpose (STYLE habit 2): the snapshot holds data, never bindings, and is
 * bounded by MAX_TENANTS. Entries are promises, so concurrent requests share one load.
 */
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { configVersionOf, tenantConfig } from "../db/tenants";
import { enabledProviderConfigs, type ProviderConfigRow } from "../db/providers";
import { endpointsOf, type WebhookEndpointRow } from "../db/webhooks";
import type { TenantSettings } from "../db/schema";
import type { Channel } from "../domain";
import type { ProviderAdapter } from "../channels/types";
import { buildAdapter } from "../pipeline/provider-configs";

/** How long a snapshot is trusted without asking D1 whether the tenant's config moved. */
export const TTL_MS = 5_000;
const MAX_TENANTS = 2_000;

type Snapshot = {
  version: number;
  /** When the version was last confirmed against D1 (Date.now()). */
  checkedAt: number;
  /** Undefined when the tenant does not exist (a deleted tenant's queued work still drains). */
  settings: TenantSettings | null | undefined;
  providers: ProviderConfigRow[];
  endpoints: WebhookEndpointRow[];
  /** Memoised by the getters below; they die with the snapshot. */
  memo: Map<string, Promise<unknown>>;
};

const snapshots = new Map<string, Promise<Snapshot>>();
/** The newest config version any snapshot here has seen, per tenant; outlives forgetting. */
const seen = new Map<string, number>();

async function load(db: Db, tenantId: string): Promise<Snapshot> {
  // One batch is one transaction: the version read matches the rows read beside it.
  const [[row], providers, endpoints] = (await runBatch(db, [tenantConfig(db, tenantId), enabledProviderConfigs(db, tenantId), endpointsOf(db, tenantId)])) as [
    { settings: TenantSettings | null; version: number }[],
    ProviderConfigRow[],
    WebhookEndpointRow[],
  ];
  return { version: row?.version ?? -1, checkedAt: Date.now(), settings: row ? row.settings : undefined, providers, endpoints, memo: new Map() };
}

function install(tenantId: string, p: Promise<Snapshot>) {
  if (snapshots.size >= MAX_TENANTS && !snapshots.has(tenantId)) snapshots.delete(snapshots.keys().next().value!);
  snapshots.set(tenantId, p);
  p.then(
    (s) => {
      if (seen.size >= MAX_TENANTS && !seen.has(tenantId)) seen.delete(seen.keys().next().value!);
      if (s.version > (seen.get(tenantId) ?? -1)) seen.set(tenantId, s.version);
    },
    // A failed load must not stick: the next request tries again.
    () => {
      if (snapshots.get(tenantId) === p) snapshots.delete(tenantId);
    },
  );
  return p;
}

async function revalidate(db: Db, tenantId: string, stale: Snapshot): Promise<Snapshot> {
  const [row] = await configVersionOf(db, tenantId);
  if ((row?.version ?? -1) === stale.version) {
    stale.checkedAt = Date.now();
    return stale;
  }
  return load(db, tenantId);
}

/** The tenant's snapshot: from memory when fresh, else confirmed or reloaded. */
async function snapshot(db: Db, tenantId: string): Promise<Snapshot> {
  const entry = snapshots.get(tenantId);
  if (!entry) return install(tenantId, load(db, tenantId));
  const current = await entry;
  if (Date.now() - current.checkedAt < TTL_MS) return current;
  // Only the first request past the TTL asks; the others wait on its answer.
  if (snapshots.get(tenantId) !== entry) return snapshot(db, tenantId);
  return install(tenantId, revalidate(db, tenantId, current));
}

/**
 * Forgets the tenant's snapshot in this isolate. Call it after a write that bumped
 * config_version has committed, so the next request here reads the new rows.
 */
export function forgetTenantConfig(tenantId: string) {
  snapshots.delete(tenantId);
}

function memo<T>(s: Snapshot, key: string, make: () => Promise<T>): Promise<T> {
  let hit = s.memo.get(key) as Promise<T> | undefined;
  if (!hit) {
    s.memo.set(key, (hit = make()));
    hit.catch(() => s.memo.delete(key));
  }
  return hit;
}

/**
 * The newest config version this isolate has read for the tenant, without reading anything:
 * the API-key cache drops a key remembered at an older version (a revocation moves it).
 */
export const seenConfigVersion = (tenantId: string) => seen.get(tenantId);

/** The tenant's settings (null when never set); undefined when there is no such tenant. */
export const cachedSettings = async (db: Db, tenantId: string) => (await snapshot(db, tenantId)).settings;

/** The channels with at least one enabled provider config. */
export const cachedReadyChannels = async (db: Db, tenantId: string): Promise<Set<Channel>> => {
  const s = await snapshot(db, tenantId);
  return memo(s, "ready", async () => new Set(s.providers.map((p) => p.channel)));
};

/** Enabled provider configs for one channel, in failover order (priority, then age). */
export const cachedProviders = async (db: Db, tenantId: string, channel: Channel): Promise<ProviderConfigRow[]> =>
  (await snapshot(db, tenantId)).providers.filter((p) => p.channel === channel);

/** Every enabled provider config of the tenant, each channel's in failover order. */
export const cachedProviderConfigs = async (db: Db, tenantId: string): Promise<ProviderConfigRow[]> => (await snapshot(db, tenantId)).providers;

/**
 * A config's adapter with its credentials opened (AES-GCM and a zod parse per config, which a
 * busy channel would otherwise pay per message). `secret` is config.encryptionKey.
 */
export async function cachedAdapter(db: Db, secret: string, row: ProviderConfigRow): Promise<ProviderAdapter> {
  const s = await snapshot(db, row.tenantId);
  // Keyed by updatedAt too: a row handed in from elsewhere may be newer than this snapshot.
  return memo(s, `adapter:${row.id}:${row.updatedAt.getTime()}`, () => buildAdapter(secret, row));
}

/** The tenant's webhook endpoints, enabled or not. An event for a tenant with none costs no read. */
export const cachedEndpoints = async (db: Db, tenantId: string): Promise<WebhookEndpointRow[]> => (await snapshot(db, tenantId)).endpoints;

/**
 * Memoises any tenant-scoped look-up of control-plane rows on the snapshot, so it is forgotten
 * with it when the config version moves (src/cache/templates.ts uses this for templates).
 */
export async function cachedLookup<T>(db: Db, tenantId: string, key: string, read: () => Promise<T>): Promise<T> {
  return memo(await snapshot(db, tenantId), key, read);
}

/**
 * For tests, which share one isolate: `clear` starts cold, `expire` makes every snapshot as old
 * as another isolate's would be after TTL_MS, without waiting on the clock.
 */
export const tenantConfigCache = {
  clear: () => {
    snapshots.clear();
    seen.clear();
  },
  expire: async () => {
    for (const p of snapshots.values()) {
      const s = await p.catch(() => undefined);
      if (s) s.checkedAt = 0;
    }
  },
};
