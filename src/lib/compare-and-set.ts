/**
 * Optimistic read-modify-write for a row whose new value needs code to compute (validating a whole
 * trigger rule, pairing a provider's key halves): read, compute, and write only if the row is still
 * the version read (the writer's WHERE names it), else read again. D1 serialises writes, so each
 * round at least one contender wins; `attempts` bounds the rounds a single writer can lose.
 */
export type CasOutcome<T> = { kind: "written"; value: T } | { kind: "missing" } | { kind: "contended" };

export async function compareAndSet<R, T>(read: () => Promise<R | undefined>, write: (row: R) => Promise<T | undefined>, attempts = 40): Promise<CasOutcome<T>> {
  for (let i = 0; i < attempts; i++) {
    const row = await read();
    if (!row) return { kind: "missing" };
    const value = await write(row);
    if (value !== undefined) return { kind: "written", value };
  }
  return { kind: "contended" };
}

/**
 * The stamp a compare-and-set write leaves: now, but always after the one it replaces, so two
 * writes within one millisecond still leave different stamps and the second one's guard holds.
 */
export const nextStamp = (previous: Date, now = new Date()) => new Date(Math.max(now.getTime(), previous.getTime() + 1));
