/**
 * A record's own entry for a key that came from outside (a message type, a provider's status).
 * Plain `record[key]` also finds what every object inherits: `constructor`, `toString`…
 */
export const own = <T>(record: Record<string, T> | null | undefined, key: string): T | undefined =>
  record && Object.hasOwn(record, key) ? record[key] : undefined;
