/**
 * A small deterministic feature_events generator for tests: the same options always give
 * the same rows, so a failing comparison can be reproduced.
 */
import { formatTs, prng } from '../../scripts/generate-events.js';
import type { FeatureEvent } from '../../src/ingest/index.js';

/** Timestamps are 'YYYY-MM-DD HH:MM:SS', UTC, as the ingest schema stores them. */
export type GeneratedEvent = FeatureEvent;

export interface GenerateOptions {
  count: number;
  seed?: number;
  /** Timestamps fall in [now - spanDays, now - 10 min]. */
  now: number;
  spanDays?: number;
  /** Share of events in the last 30 days (so timelines have data). */
  recentShare?: number;
  users?: number;
  features?: string[];
  versions?: string[];
  /** Seconds-before-now points to keep 15 minutes clear of (window edges compared in tests). */
  avoidAgo?: number[];
}

// The same seeded PRNG and timestamp format as the benchmark's generator (scripts/): one
// source of generated events, with this file choosing the small, exact shapes tests compare.
export { formatTs, prng } from '../../scripts/generate-events.js';

export const parseTs = (ts: string) => Date.parse(`${ts.replace(' ', 'T')}Z`);

export function generateEvents(opts: GenerateOptions): GeneratedEvent[] {
  const rnd = prng(opts.seed ?? 42);
  const features = opts.features ?? [
    'feature_recommendations',
    'feature_search',
    'feature_export',
    'feature_share',
    'feature_dark_mode',
  ];
  const versions = opts.versions ?? ['2.3.0', '2.4.0', '2.4.1'];
  const users = opts.users ?? 120;
  const spanMs = (opts.spanDays ?? 150) * 86_400_000;
  const end = Math.floor(opts.now / 1000) * 1000 - 10 * 60_000;
  const recent = opts.recentShare ?? 0.4;
  const avoid = (opts.avoidAgo ?? []).map((s) => opts.now - s * 1000);
  const out: GeneratedEvent[] = [];
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  for (let i = 0; out.length < opts.count; i++) {
    const back = rnd() < recent ? rnd() * 30 * 86_400_000 : rnd() * spanMs;
    const ms = Math.floor((end - back) / 1000) * 1000;
    if (avoid.some((a) => Math.abs(ms - a) < 15 * 60_000)) continue;
    // Skewed users and features, so counts differ between groups.
    const u = Math.floor(rnd() ** 2 * users);
    const session = Math.floor(rnd() * 25);
    out.push({
      event_id: `evt_${opts.seed ?? 42}_${i}`,
      user_id: `usr_${u}`,
      feature_id: features[Math.floor(rnd() ** 1.5 * features.length)] as string,
      product_version: pick(versions),
      event_type: pick(['feature_used', 'feature_viewed', 'feature_enabled']),
      timestamp: formatTs(ms),
      // About one event in 25 has no session (Tinybird clients send ""): counted as none.
      session_id: session === 0 ? '' : `sess_${u}_${session}`,
      metadata: JSON.stringify({
        duration_seconds: Math.floor(rnd() * 120),
        result: pick(['success', 'error']),
      }),
    });
  }
  return out;
}
