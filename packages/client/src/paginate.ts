/**
 * The API pages lists three ways, and each has an async iterator over every item:
 * - `page`/`size` with a `count` (communications, campaigns) or without (suppressions): `byPage`;
 * - an opaque `cursor`, answered with `nextCursor` (audit log, conversations, messages,
 *   reminders, workflow runs): `byCursor`;
 * - audience members' `after`, answered with `next`: `byCursor` with those names.
 * Pages are fetched as the loop asks for them, so `break` stops fetching.
 */
export type PageResult<T> = { results: T[]; page: number; size: number; count?: number };
export type CursorPage<T> = { results: T[]; nextCursor: string | null };

export async function* byPage<T>(fetchPage: (page: number) => Promise<PageResult<T>>, first = 1): AsyncGenerator<T, void, undefined> {
  for (let page = first; ; page++) {
    const p = await fetchPage(page);
    yield* p.results;
    const seen = (page - 1) * p.size + p.results.length;
    if (p.results.length < p.size || (p.count !== undefined && seen >= p.count)) return;
  }
}

export async function* byCursor<P extends { results: unknown[] }>(
  fetchPage: (cursor: string | undefined) => Promise<P>,
  next: (page: P) => string | null | undefined,
  first?: string,
): AsyncGenerator<P["results"][number], void, undefined> {
  let cursor = first;
  for (;;) {
    const p = await fetchPage(cursor);
    yield* p.results as P["results"][number][];
    const n = next(p);
    if (!n) return;
    cursor = n;
  }
}

/** Every item of an iterator in an array: for small lists and tests. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
