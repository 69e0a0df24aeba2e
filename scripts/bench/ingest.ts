/** Ingest measurements: NDJSON batches, bulk loads, single events, and freshness. */
import { formatTs, type Generator, progress } from '../generate-events.js';
import { pool, request, type Service, sleep, stats, waitForCount } from './lib.js';

export const BATCH_ROWS = 1_000;
export const BATCH_CONCURRENCY = 4;
export const SINGLE_CONCURRENCY = 64;
const BULK_BATCH_ROWS = 25_000; // loading the big stages: ~7 MB bodies, under MAX_BODY_BYTES

/** Connection resets retried by postBatch (reported: a reset is a fault callers would see too). */
export const resets = { count: 0 };

export interface PostOptions {
  /** Per-request timeout (default 120 s). */
  timeoutMs?: number;
  /** How many 503/429 answers to wait out before giving up (default 120, 250 ms apart). */
  busyTries?: number;
  /** Called on each 503/429 answer waited out (load-memory counts them). */
  onBusy?: () => void;
}

/** POST one events body; waits out 503/429 (the service's backpressure) and keep-alive resets. */
export async function postBatch(svc: Service, body: Buffer | string, opts: PostOptions = {}): Promise<void> {
  const busyTries = opts.busyTries ?? 120;
  let retried = 0;
  for (let tries = 0; tries < busyTries; tries++) {
    let r: Awaited<ReturnType<typeof request>>;
    try {
      r = await request(
        svc.baseUrl,
        'POST',
        '/v0/events?name=feature_events',
        svc.token,
        body,
        opts.timeoutMs ?? 120_000,
      );
    } catch (err) {
      // A keep-alive socket the server closed just as we reused it: the request never
      // reached the handler. Retry a few times on a new socket; a dead service still fails.
      const code = (err as NodeJS.ErrnoException).code;
      // Re-sending is safe: the same event_ids are dropped by the dedup window. Counted and
      // reported (details.post_resets), since a reset is a fault callers would see too.
      if ((code === 'ECONNRESET' || code === 'EPIPE') && ++retried <= 20 && svc.proc.exitCode === null) {
        resets.count++;
        await sleep(50);
        continue;
      }
      throw err;
    }
    if (r.status === 202 || r.status === 200) return;
    if (r.status !== 503 && r.status !== 429)
      throw new Error(`POST /v0/events: ${r.status} ${r.body.slice(0, 300)}`);
    opts.onBusy?.();
    await sleep(250);
  }
  throw new Error(`POST /v0/events: still 503 after ${busyTries} tries`);
}

/** NDJSON batches posted with BATCH_CONCURRENCY in flight; rate until all rows are queryable. */
export async function ingestBatches(
  svc: Service,
  label: string,
  batches: Buffer[],
  rows: number,
): Promise<number> {
  const before = await svc.count();
  const bar = progress(label, rows);
  let sent = 0;
  const t0 = performance.now();
  await pool(batches, BATCH_CONCURRENCY, async (b) => {
    await postBatch(svc, b);
    sent += BATCH_ROWS;
    bar.tick(Math.min(sent, rows));
  });
  const tAcked = performance.now();
  const tVisible = await waitForCount(svc, before + rows, 300_000);
  const eps = Math.round(rows / ((tVisible - t0) / 1000));
  bar.done(
    `${eps.toLocaleString('en')} events/s until queryable (acked after ${((tAcked - t0) / 1000).toFixed(2)} s, queryable after ${((tVisible - t0) / 1000).toFixed(2)} s)`,
  );
  return eps;
}

export function makeBatches(gen: Generator, rows: number, batchRows: number): Buffer[] {
  const out: Buffer[] = [];
  for (let done = 0; done < rows; ) {
    const n = Math.min(batchRows, rows - done);
    out.push(Buffer.from(gen.ndjson(n)));
    done += n;
  }
  return out;
}

/** Loads a big stage through the service's own ingest, generating as it goes. */
export async function bulkLoad(svc: Service, gen: Generator, rows: number, skip: number): Promise<number> {
  for (let done = 0; done < skip; ) {
    const n = Math.min(BULK_BATCH_ROWS, skip - done);
    gen.ndjson(n);
    done += n;
  }
  const todo = rows - skip;
  const before = await svc.count();
  const bar = progress('bulk load', todo);
  const t0 = performance.now();
  let done = 0;
  const inflight = new Set<Promise<void>>();
  while (done < todo) {
    const n = Math.min(BULK_BATCH_ROWS, todo - done);
    const body = gen.ndjson(n);
    const p: Promise<void> = postBatch(svc, body).then(() => {
      inflight.delete(p);
    });
    inflight.add(p);
    done += n;
    if (inflight.size >= 2) await Promise.race(inflight);
    bar.tick(done);
  }
  await Promise.all(inflight);
  const t = await waitForCount(svc, before + todo, 600_000);
  const eps = Math.round(todo / ((t - t0) / 1000));
  bar.done(`${eps.toLocaleString('en')} events/s (25k-row batches, generated on the fly)`);
  return eps;
}

export async function ingestSingles(svc: Service, n: number, gen: Generator): Promise<number> {
  const bodies = Array.from({ length: n }, () => JSON.stringify(gen.next()));
  const before = await svc.count();
  const bar = progress(`single events x${SINGLE_CONCURRENCY}`, n);
  let done = 0;
  const t0 = performance.now();
  await pool(bodies, SINGLE_CONCURRENCY, async (b) => {
    await postBatch(svc, b);
    done++;
    if (done % 500 === 0) bar.tick(done);
  });
  const t = await waitForCount(svc, before + n, 120_000);
  const eps = Math.round(n / ((t - t0) / 1000));
  bar.done(`${eps.toLocaleString('en')} events/s until queryable`);
  return eps;
}

/** Time from a 2xx reply to the event showing in user_feature_usage, one event at a time. */
export async function freshness(
  svc: Service,
  samples: number,
  tag: string,
): Promise<{ p50: number; p95: number; n: number }> {
  const lat: number[] = [];
  const bar = progress(`freshness ${tag}`, samples);
  for (let i = 0; i < samples; i++) {
    const user = `fresh_${tag}_${Date.now().toString(36)}_${i}`;
    const ev = {
      event_id: `evt_${user}`,
      user_id: user,
      feature_id: 'feature_search',
      product_version: '3.0.0',
      event_type: 'feature_used',
      timestamp: formatTs(Date.now()),
      session_id: `sess_${user}`,
      metadata: '{}',
    };
    await postBatch(svc, JSON.stringify(ev));
    const t0 = performance.now();
    const deadline = t0 + 15_000;
    for (;;) {
      const r = await request(
        svc.baseUrl,
        'GET',
        `/v0/pipes/user_feature_usage.json?user_id=${encodeURIComponent(user)}`,
        svc.token,
      );
      if (r.status === 200 && (JSON.parse(r.body) as { rows: number }).rows > 0) {
        lat.push(performance.now() - t0);
        break;
      }
      if (performance.now() > deadline) throw new Error(`event for ${user} not visible after 15 s`);
      await sleep(5);
    }
    bar.tick(i + 1);
    // Do not always land at the same point of the batcher's timer.
    await sleep(Math.floor(Math.random() * 100));
  }
  const s = stats(lat, 0, 1);
  bar.done(`p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms`);
  return { p50: s.p50, p95: s.p95, n: s.n };
}
