/**
 * Closed-loop HTTP load with autocannon: a fixed number of connections, each sending its next
 * request as soon as the previous one answers, for a fixed time. Returns throughput and latency
 * for one run, and counts every response that was not the expected status, and every socket
 * error, so a fast run full of failures cannot pass as a good one.
 */
import autocannon from "autocannon";

/**
 * @param {{ url: string, method?: string, headers?: Record<string,string>, body?: string,
 *           expect: number, connections: number, seconds: number }} target
 */
export async function hit(target) {
  const result = await autocannon({
    url: target.url,
    method: target.method ?? "GET",
    headers: target.headers,
    body: target.body,
    connections: target.connections,
    duration: target.seconds,
    timeout: 10,
  });
  const counts = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const completed = result.requests.total;
  const expected = counts[target.expect] ?? 0;
  return {
    completed,
    expected,
    unexpected: completed - expected,
    counts,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    // Completed responses over the run's wall time; requests cut off at the end are not counted.
    rps: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
  };
}
