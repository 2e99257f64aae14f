/**
 * Turning a stored provider config into a working adapter, and the reverse (sealing credentials
 * for storage). Credentials are sealed with the config's tenant and id as associated data.
 */
import { PROVIDERS } from "../channels/registry";
import type { ProviderAdapter } from "../channels/types";
import type { ProviderConfigRow } from "../db/providers";
import { open, seal } from "../lib/crypto";

const aad = (tenantId: string, id: string) => `provider_config:${tenantId}:${id}`;

export const sealCredentials = (key: string, tenantId: string, id: string, credentials: unknown) =>
  seal(key, tenantId, JSON.stringify(credentials), aad(tenantId, id));

/** A stored config's definition with its credentials opened and its settings defaulted. */
export async function readProviderConfig(key: string, row: ProviderConfigRow) {
  const definition = PROVIDERS[row.provider];
  const credentials = definition.credentials.parse(JSON.parse(await open(key, row.tenantId, row.credentials, aad(row.tenantId, row.id))));
  const settings = definition.settings.parse(row.settings);
  return { definition, credentials, settings };
}

export async function buildAdapter(key: string, row: ProviderConfigRow): Promise<ProviderAdapter> {
  const { definition, credentials, settings } = await readProviderConfig(key, row);
  return definition.create(credentials, settings);
}

/** The URL a provider calls back with delivery status for this config. */
export const webhookUrl = (publicUrl: string, row: Pick<ProviderConfigRow, "provider" | "id">) =>
  `${publicUrl}/webhooks/${row.provider}/${row.id}`;
