/**
 * A value that is expensive to read (a query of system.parts, a round trip to Kafka), read
 * lazily when a scrape asks and at most once per `maxAgeMs`: Prometheus may scrape every few
 * seconds, and in embedded mode every query waits for the one chDB session's inserts.
 *
 * A read that fails or takes longer than `waitMs` answers the last value (empty at first):
 * a scrape must not fail, or hang, because ClickHouse or Kafka does, which is exactly when
 * the other metrics are wanted. A slow read goes on in the background and serves later scrapes.
 */
export function cachedSource<T>(
  read: () => Promise<T>,
  options: {
    maxAgeMs: number;
    /** How long a scrape waits for a fresh read before it takes the last value. */
    waitMs: number;
    empty: T;
    onError?: (err: unknown) => void;
    now?: () => number;
    /** Resolves after `ms`; injected by tests. */
    timeout?: (ms: number) => Promise<void>;
  },
): () => Promise<T> {
  const now = options.now ?? Date.now;
  const timeout =
    options.timeout ??
    ((ms: number) =>
      new Promise<void>((r) => {
        setTimeout(r, ms).unref();
      }));
  let last = options.empty;
  let readAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<T> | undefined;
  return async () => {
    if (now() - readAt < options.maxAgeMs) return last;
    inFlight ??= read()
      .then(
        (value) => {
          last = value;
          return value;
        },
        (err) => {
          options.onError?.(err);
          return last;
        },
      )
      .finally(() => {
        // Fresh (or failed) as of now: the next read waits maxAgeMs either way.
        readAt = now();
        inFlight = undefined;
      });
    const pending = inFlight;
    return Promise.race([pending, timeout(options.waitMs).then(() => last)]);
  };
}
