import { appendFileSync } from 'node:fs';
import type { ServiceProcess } from './service.js';

/**
 * Figures of the fault-injection and bad-input suites. Each scenario prints one line, and
 * appends it as JSON to $RELIABILITY_OUT when set (scripts/reliability.ts collects them).
 */
export function report(suite: string, scenario: string, figures: Record<string, unknown>): void {
  const line = { suite, scenario, ...figures };
  console.log(`[reliability] ${JSON.stringify(line)}`);
  if (process.env.RELIABILITY_OUT) appendFileSync(process.env.RELIABILITY_OUT, `${JSON.stringify(line)}\n`);
}

const pad = (n: number) => String(n).padStart(2, '0');
/** 'YYYY-MM-DD HH:MM:SS' (UTC) `hoursAgo` hours before now: inside the timeline's look-back. */
export function recentTimestamp(hoursAgo: number): string {
  const d = new Date(Date.now() - hoursAgo * 3_600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export const USERS = 5;

/** Every event of a scenario shares its feature_id; users u0..u4; the last 48 hours. */
export function scenarioEvent(feature: string, eventId: string, n: number): Record<string, unknown> {
  return {
    event_id: eventId,
    user_id: `${feature}_u${n % USERS}`,
    feature_id: feature,
    product_version: '9.9.9',
    event_type: 'feature_used',
    timestamp: recentTimestamp((n % 47) + 0.5),
    session_id: `s${n % 13}`,
    metadata: '{}',
  };
}

export interface Load {
  acked: Set<string>;
  /** Sent in a request that was not acknowledged (error, timeout, 503): may or may not be stored. */
  unacked: Set<string>;
  statuses: Record<string, number>;
  requests: number;
  /** Requests that re-sent an earlier request's event_ids (a client retry). */
  resends: number;
  stop(): Promise<void>;
}

/**
 * `workers` clients posting `rows` events per request until stop(). Every fourth request
 * re-sends the previous one's events unchanged (same event_id), as a client retrying
 * after a timeout would: the endpoints must count them once.
 */
export function startLoad(opts: {
  svc: () => ServiceProcess;
  feature: string;
  prefix: string;
  workers?: number;
  rows?: number;
  /**
   * Another datasource to post to, and its row carrying the given id. Its rows have no
   * event_id to drop a re-send by, so nothing is re-sent: each id goes out once.
   */
  datasource?: { name: string; row: (id: string, n: number) => Record<string, unknown> };
}): Load {
  const load: Load = {
    acked: new Set(),
    unacked: new Set(),
    statuses: {},
    requests: 0,
    resends: 0,
    stop: async () => {},
  };
  let stopped = false;
  let n = 0;
  const worker = async (w: number) => {
    let previous: Record<string, unknown>[] | undefined;
    for (let r = 0; !stopped; r++) {
      let rows: Record<string, unknown>[];
      let ids: string[];
      if (previous && r % 4 === 3 && !opts.datasource) {
        rows = previous;
        ids = rows.map((x) => x.event_id as string);
        load.resends++;
      } else {
        ids = Array.from({ length: opts.rows ?? 25 }, (_, i) => `${opts.prefix}_${w}_${r}_${i}`);
        rows = ids.map((id) =>
          opts.datasource ? opts.datasource.row(id, n++) : scenarioEvent(opts.feature, id, n++),
        );
      }
      previous = rows;
      const svc = opts.svc();
      load.requests++;
      let status = 'error';
      try {
        const res = await fetch(
          `${svc.baseUrl}/v0/events?name=${opts.datasource?.name ?? 'feature_events'}`,
          {
            method: 'POST',
            headers: { Authorization: `Bearer ${svc.token}` },
            body: rows.map((x) => JSON.stringify(x)).join('\n'),
            signal: AbortSignal.timeout(20_000),
          },
        );
        status = String(res.status);
        await res.arrayBuffer();
      } catch {
        // connection refused or reset (the process was killed), or timed out
        await new Promise((r) => setTimeout(r, 100));
      }
      load.statuses[status] = (load.statuses[status] ?? 0) + 1;
      for (const id of ids) {
        if (status === '202') {
          load.acked.add(id);
          load.unacked.delete(id);
        } else if (!load.acked.has(id)) load.unacked.add(id);
      }
    }
  };
  const running = Promise.all(Array.from({ length: opts.workers ?? 6 }, (_, w) => worker(w)));
  load.stop = async () => {
    stopped = true;
    await running;
  };
  return load;
}

export interface Verdict {
  acknowledged: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Stored rows whose request was never acknowledged (allowed: the client would retry). */
  stored_unacknowledged: number;
  /** Stored rows nobody sent (must be 0). */
  unexpected: number;
  endpoints_agree: boolean;
  endpoint_counts: Record<string, number>;
}

async function pipe<T>(svc: ServiceProcess, name: string, params: Record<string, string>): Promise<T[]> {
  const qs = new URLSearchParams({ ...params, token: svc.token });
  const res = await fetch(`${svc.baseUrl}/v0/pipes/${name}.json?${qs}`);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${name}: ${res.status} ${body}`);
  return (JSON.parse(body) as { data: T[] }).data;
}

/** Raw table and the three endpoints against what the clients were told. */
export async function verify(svc: ServiceProcess, feature: string, load: Load): Promise<Verdict> {
  const rows = await svc.sql<{ event_id: string; c: string }>(
    `SELECT event_id, count() AS c FROM feature_events WHERE feature_id = '${feature}' GROUP BY event_id`,
  );
  const stored = new Map(rows.map((r) => [r.event_id, Number(r.c)]));
  let total = 0;
  let duplicated = 0;
  let unexpected = 0;
  let storedUnacked = 0;
  for (const [id, c] of stored) {
    total += c;
    duplicated += c - 1;
    if (!load.acked.has(id)) {
      if (load.unacked.has(id)) storedUnacked++;
      else unexpected++;
    }
  }
  let lost = 0;
  for (const id of load.acked) if (!stored.has(id)) lost++;
  const summary = await pipe<{ events: number }>(svc, 'feature_usage_summary', {
    feature_id: feature,
    start_date: '2000-01-01 00:00:00',
  });
  const timeline = await pipe<{ events: number }>(svc, 'feature_usage_timeline', {
    feature_id: feature,
    interval: '7 day',
    granularity: 'hour',
    limit: '10000',
  });
  let byUser = 0;
  for (let u = 0; u < USERS; u++) {
    const r = await pipe<{ events: number }>(svc, 'user_feature_usage', {
      user_id: `${feature}_u${u}`,
      feature_id: feature,
    });
    byUser += r.reduce((s, x) => s + Number(x.events), 0);
  }
  const endpoint_counts = {
    raw: total,
    feature_usage_summary: summary.reduce((s, x) => s + Number(x.events), 0),
    feature_usage_timeline: timeline.reduce((s, x) => s + Number(x.events), 0),
    user_feature_usage: byUser,
  };
  return {
    acknowledged: load.acked.size,
    stored: stored.size,
    lost,
    duplicated,
    stored_unacknowledged: storedUnacked,
    unexpected,
    endpoints_agree: Object.values(endpoint_counts).every((v) => v === total),
    endpoint_counts,
  };
}

/** Polls until every acknowledged row is stored and the count stopped moving. */
/**
 * Waits until every acknowledged row of `feature` is stored and the count has been still
 * for 1.5 s. Gives up (verify() then reports what is missing) once nothing new has been
 * stored for stallMs, or after capMs in all: a consumer working through a backlog under
 * injected insert failures keeps its time, one that stopped storing does not.
 */
export async function settle(
  svc: ServiceProcess,
  feature: string,
  load: Load,
  stallMs = 30_000,
  capMs = 240_000,
) {
  const started = Date.now();
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const [r] = await svc.sql<{ c: string; a: string }>(
      `SELECT count() AS c, uniqExact(event_id) AS a FROM feature_events WHERE feature_id = '${feature}'`,
    );
    const c = Number(r?.c);
    if (c !== last) {
      last = c;
      stableSince = Date.now();
    }
    if (Number(r?.a) >= load.acked.size && Date.now() - stableSince > 1500) break;
    if (Date.now() - stableSince > stallMs || Date.now() - started > capMs) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  if (process.env.FAULTS_VERBOSE) process.stderr.write(`settle ${feature}: ${Date.now() - started} ms\n`);
}

export const count = (text: string, needle: string) => text.split(needle).length - 1;
