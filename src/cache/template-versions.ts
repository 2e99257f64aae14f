/**
 * Published template versions never change (a content edit makes a new version; activation only
 * moves the template's pointer), so one read per version per isolate is enough for good: no TTL,
 * no config version. Useful wherever a stored communication's template version is rendered again.
 * Bounded, oldest first out.
 */
import type { Db } from "../db/client";
import { getVersion, type TemplateVersionRow } from "../db/templates";

const MAX_VERSIONS = 5_000;
const versions = new Map<string, Promise<TemplateVersionRow | undefined>>();

export function cachedTemplateVersion(db: Db, tenantId: string, templateId: string, version: number): Promise<TemplateVersionRow | undefined> {
  const key = `${tenantId}\u0000${templateId}\u0000${version}`;
  let hit = versions.get(key);
  if (!hit) {
    if (versions.size >= MAX_VERSIONS) versions.delete(versions.keys().next().value!);
    hit = getVersion(db, tenantId, templateId, version);
    versions.set(key, hit);
    // Neither a failed read nor a miss (a deleted template, a version not yet visible) sticks.
    hit.then(
      (row) => row ?? versions.delete(key),
      () => versions.delete(key),
    );
  }
  return hit;
}
