/** Splits a list into runs of at most `size`: D1 binds 100 parameters, sendBatch takes 100 messages. */
export const chunk = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
