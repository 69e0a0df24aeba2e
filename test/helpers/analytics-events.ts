/**
 * Deterministic events for the analytics pipes: accounts (and users without one), several
 * versions, busy and quiet users, users who stop, and users whose usage drops in the last
 * week. Same options, same rows.
 */
import { formatTs, type GeneratedEvent, prng } from './generate-events.js';

export type AnalyticsEvent = GeneratedEvent & { account_id: string };

export const FEATURES = [
  'feature_recommendations',
  'feature_search',
  'feature_export',
  'feature_share',
  'feature_dark_mode',
  'feature_calendar',
];
export const VERSIONS = ['2.3.0', '2.4.0', '2.4.1'];
const TYPES = ['feature_used', 'feature_viewed', 'feature_enabled'];
const DAY = 86_400_000;

export interface AnalyticsOptions {
  now: number;
  users?: number;
  days?: number;
  seed?: number;
  /** Milliseconds-before-now points no event comes within 15 minutes of (window edges relative to now). */
  avoidAgo?: number[];
}

/** What kind of user i is; the tests do not rely on it, only on the events. */
function profile(i: number): { rate: number; stopsDaysAgo?: number; dropsDaysAgo?: number } {
  if (i % 7 === 0) return { rate: 6 }; // busy
  if (i % 7 === 1) return { rate: 0.15 }; // quiet
  if (i % 7 === 2) return { rate: 3, stopsDaysAgo: 3 + (i % 20) }; // stops
  if (i % 7 === 3) return { rate: 4, dropsDaysAgo: 7 + (i % 5) }; // drops to a tenth
  return { rate: 1 };
}

export function generateAnalyticsEvents(opts: AnalyticsOptions): AnalyticsEvent[] {
  const rnd = prng(opts.seed ?? 11);
  const users = opts.users ?? 70;
  const days = opts.days ?? 90;
  const end = Math.floor(opts.now / 1000) * 1000 - 10 * 60_000;
  const avoid = (opts.avoidAgo ?? []).map((a) => opts.now - a);
  const out: AnalyticsEvent[] = [];
  let n = 0;
  for (let u = 0; u < users; u++) {
    const p = profile(u);
    // Users favour a few features: adoption differs between features.
    const favourite = Math.floor(rnd() * FEATURES.length);
    for (let d = days - 1; d >= 0; d--) {
      if (p.stopsDaysAgo !== undefined && d < p.stopsDaysAgo) continue;
      const rate = p.dropsDaysAgo !== undefined && d < p.dropsDaysAgo ? p.rate / 10 : p.rate;
      let count = Math.floor(rate) + (rnd() < rate - Math.floor(rate) ? 1 : 0);
      if (rnd() < 0.2) count += Math.floor(rnd() * 3);
      for (let k = 0; k < count; k++) {
        const ms = Math.floor((end - d * DAY - rnd() * DAY) / 1000) * 1000;
        if (avoid.some((a) => Math.abs(ms - a) < 15 * 60_000)) continue;
        const f = rnd() < 0.5 ? favourite : Math.floor(rnd() ** 1.6 * FEATURES.length);
        out.push({
          event_id: `ae_${String(n++).padStart(6, '0')}`,
          user_id: `usr_${u}`,
          feature_id: FEATURES[f] as string,
          product_version: VERSIONS[Math.floor(rnd() * VERSIONS.length)] as string,
          event_type: TYPES[Math.floor(rnd() * TYPES.length)] as string,
          timestamp: formatTs(ms),
          session_id: `sess_${u}_${d}`,
          metadata: '{}',
          account_id: u % 10 === 9 ? '' : `acct_${u % 8}`,
        });
      }
    }
  }
  return out;
}
