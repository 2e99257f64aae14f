/**
 * Runs `fn` over `items` with at most `limit` running at once, results in input order. A Worker
 * invocation keeps at most 6 outbound connections open (fetch, R2, Queues); more simultaneous
 * calls wait for a slot anyway, so the consumer's provider calls go through this pool instead of
 * piling up behind the runtime's own queue.
 */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
