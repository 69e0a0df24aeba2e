import { BackpressureError } from '../queue/types.js';

export interface IngestAdmissionOptions {
  /** INGEST_MAX_INFLIGHT_BYTES: request bodies read and parsed at once, in bytes. */
  maxBytes: number;
  /** INGEST_ADMISSION_WAIT_MS: how long a request waits for room before it is answered 503. */
  maxWaitMs: number;
}

/** One admitted request's share of the bound, given back once its rows are handed to the sink. */
export interface Admitted {
  /** Counts the body at `bytes` if that is more than admitted (a gzip body's expansion), without waiting. */
  atLeast(bytes: number): void;
  /** Idempotent. */
  release(): void;
}

export interface IngestAdmission {
  /** Resolves once `bytes` fit under the bound; rejects with BackpressureError after maxWaitMs. */
  admit(bytes: number): Promise<Admitted>;
  /** peak_bytes: the most ever in flight at once (the bound holds when it stays ≤ max_bytes). */
  stats(): { inflight_bytes: number; peak_bytes: number; waiting: number; max_bytes: number };
}

interface Waiter {
  cost: number;
  resolve: (a: Admitted) => void;
  timer: NodeJS.Timeout;
}

/**
 * Bounds the bytes of ingest bodies being read and parsed at once. A body costs about its size
 * as a Buffer while read and again as JS strings once parsed (~1.15x, measured), so without a
 * bound many concurrent large POSTs could push Node's heap past its limit, and with the heap
 * limit the service sets itself (docs/operations.md, Memory) the process would die. Requests
 * past the bound wait unread, first come first served (their bytes stay in the kernel's socket
 * buffers and the client's), and are answered 503 + Retry-After, nothing ingested, if no room
 * frees within maxWaitMs: the answer Tinybird gives when it is busy. One request is always
 * admitted when nothing else is in flight, so a body larger than the bound still goes through.
 */
export function ingestAdmission(opts: IngestAdmissionOptions): IngestAdmission {
  let inflight = 0;
  let peak = 0;
  const add = (bytes: number) => {
    inflight += bytes;
    if (inflight > peak) peak = inflight;
  };
  const queue: Waiter[] = [];
  const fits = (cost: number) => inflight === 0 || inflight + cost <= opts.maxBytes;

  const ticket = (cost: number): Admitted => {
    let held = cost;
    let released = false;
    return {
      atLeast(bytes) {
        if (released || !(bytes > held)) return;
        add(bytes - held);
        held = bytes;
      },
      release() {
        if (released) return;
        released = true;
        inflight -= held;
        pump();
      },
    };
  };

  // Strictly in arrival order: a large body at the head is not overtaken by small ones forever.
  function pump() {
    for (let head = queue[0]; head && fits(head.cost); head = queue[0]) {
      queue.shift();
      clearTimeout(head.timer);
      add(head.cost);
      head.resolve(ticket(head.cost));
    }
  }

  return {
    admit(bytes) {
      const cost = Math.min(Math.max(1, Math.ceil(bytes) || 1), opts.maxBytes);
      if (queue.length === 0 && fits(cost)) {
        add(cost);
        return Promise.resolve(ticket(cost));
      }
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          cost,
          resolve,
          timer: setTimeout(() => {
            queue.splice(queue.indexOf(waiter), 1);
            reject(
              new BackpressureError(
                `Too many request bodies being read at once (${inflight} bytes, INGEST_MAX_INFLIGHT_BYTES=${opts.maxBytes})`,
                1,
              ),
            );
            // The one that gave up may have been the head that did not fit.
            pump();
          }, opts.maxWaitMs),
        };
        queue.push(waiter);
      });
    },
    stats: () => ({
      inflight_bytes: inflight,
      peak_bytes: peak,
      waiting: queue.length,
      max_bytes: opts.maxBytes,
    }),
  };
}
