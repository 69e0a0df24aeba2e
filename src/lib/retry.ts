/**
 * The one retry policy of the service: exponential backoff between attempts, forever or up
 * to `attempts`, with a stop predicate checked between attempts. Injected where it differs
 * (as kafkajs injects its retrier): the Kafka loader waits while heartbeating, the spool
 * cuts the wait at its shutdown deadline.
 */
export interface RetryPolicy {
  /** First wait; each later wait doubles, up to maxMs. */
  minMs: number;
  maxMs: number;
  /** Give up (rethrow the last error) after this many failed attempts; default: never. */
  attempts?: number;
  /** Whether an error is worth another attempt; false rethrows it at once. Default: all are. */
  retryable?: (err: unknown) => boolean;
  /** Checked after each failure: true ends the loop, and retry() resolves to STOPPED. */
  stop?: () => boolean;
  /** Told of each failure before the wait (attempt counts from 1). */
  onError?: (err: unknown, attempt: number, delayMs: number) => void;
  /** How to wait; default setTimeout. May end early (the stop predicate is asked again after). */
  wait?: (ms: number) => Promise<void>;
}

export const STOPPED: unique symbol = Symbol('retry stopped');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs fn until it resolves, and returns its value; STOPPED if policy.stop() said so first. */
export function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy & { stop?: undefined },
): Promise<T>;
export function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T | typeof STOPPED>;
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T | typeof STOPPED> {
  const wait = policy.wait ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (policy.attempts !== undefined && attempt >= policy.attempts) throw err;
      if (policy.retryable && !policy.retryable(err)) throw err;
      if (policy.stop?.()) return STOPPED;
      const delay = Math.min(policy.maxMs, policy.minMs * 2 ** (attempt - 1));
      policy.onError?.(err, attempt, delay);
      await wait(delay);
      if (policy.stop?.()) return STOPPED;
    }
  }
}
