/**
 * The i-th call's parameters for the three original pipes, varied the way real clients vary
 * them: Zipf-sampled users, a 30-day summary by day boundaries, a 30-day timeline ending now
 * (its window moves with the clock); every other summary and timeline call names a feature.
 * Shared by the full bench (pipes.ts, pg-baseline.ts) and the read-path measurement (read-path.ts).
 */
import { formatTs, type Generator } from '../generate-events.js';
import { ANALYTICS_PIPES, type AnalyticsPipe, analyticsParams } from './analytics.js';

export const ORIGINAL_PIPES = [
  'user_feature_usage',
  'feature_usage_summary',
  'feature_usage_timeline',
] as const;
export type OriginalPipe = (typeof ORIGINAL_PIPES)[number];

export function originalParams(
  pipe: OriginalPipe,
  gen: Generator,
  endMs: number,
  i: number,
): Record<string, string> {
  if (pipe === 'user_feature_usage') return { user_id: gen.sampleUser() };
  const p: Record<string, string> =
    pipe === 'feature_usage_summary'
      ? {
          start_date: `${formatTs(endMs - 30 * 86_400_000).slice(0, 10)} 00:00:00`,
          end_date: `${formatTs(endMs).slice(0, 10)} 23:59:59`,
        }
      : { interval: '30 day', granularity: 'day' };
  if (i % 2 === 1) p.feature_id = gen.sampleFeature();
  return p;
}

/** Every pipe the full bench measures: the three originals, then the analytics pipes (analytics.ts). */
export const ALL_PIPES = [...ORIGINAL_PIPES, ...ANALYTICS_PIPES] as const;
export type AnyPipe = (typeof ALL_PIPES)[number];
export const isAnalytics = (p: AnyPipe): p is AnalyticsPipe =>
  (ANALYTICS_PIPES as readonly string[]).includes(p);

/** The first n calls' parameters: the same sequence for our pipes and for PostgreSQL. */
export function paramList(
  pipe: AnyPipe,
  gen: Generator,
  endMs: number,
  n: number,
): Array<Record<string, string>> {
  if (isAnalytics(pipe)) return Array.from({ length: n }, (_, i) => analyticsParams(pipe, gen, endMs, i));
  return Array.from({ length: n }, (_, i) => originalParams(pipe, gen, endMs, i));
}
