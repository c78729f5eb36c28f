// Bounded parallelism for engine calls and host-side probes. A tiny local helper rather than p-limit: p-limit is
// not a dependency (only a transitive one), and this one also records the most calls it ever had in flight.

export interface Limiter {
  /** Runs `fn` once fewer than `concurrency` calls are in flight; calls queue in order. */
  <T>(fn: () => Promise<T>): Promise<T>;
  readonly concurrency: number;
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting for a slot. */
  readonly pending: number;
  /** The most calls ever in flight at once (since creation or the last resetStats). */
  readonly maxActive: number;
  resetStats(): void;
}

export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`parallelism must be a whole number of 1 or more, got ${concurrency}`);
  const queue: (() => void)[] = [];
  let active = 0;
  let maxActive = 0;
  const next = () => {
    if (active >= concurrency) return;
    const start = queue.shift();
    if (start) start();
  };
  const limit = <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        active++;
        maxActive = Math.max(maxActive, active);
        let result: Promise<T>;
        try {
          result = Promise.resolve(fn());
        } catch (e) {
          result = Promise.reject(e as Error);
        }
        result.then(resolve, reject).finally(() => {
          active--;
          next();
        });
      });
      next();
    });
  return Object.defineProperties(limit, {
    concurrency: { get: () => concurrency },
    active: { get: () => active },
    pending: { get: () => queue.length },
    maxActive: { get: () => maxActive },
    resetStats: { value: () => void (maxActive = active) },
  }) as Limiter;
}

/** Runs `fn` over every item through `limit`; settles all, then throws the first error (like Promise.all, but waits). */
export async function mapLimited<T, R>(limit: Limiter, items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = await Promise.allSettled(items.map((item) => limit(() => fn(item))));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}
