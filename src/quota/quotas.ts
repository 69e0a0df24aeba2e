import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What is counted per token per UTC day. */
export const QUOTA_METRICS = ['rows_ingested_daily', 'pipe_requests_daily'] as const;
export type QuotaMetric = (typeof QUOTA_METRICS)[number];
export type QuotaLimits = Partial<Record<QuotaMetric, number>>;

export interface QuotaState {
  exceeded: boolean;
  current: number;
  limit: number | null;
}

export interface QuotaOptions {
  /** Limits for every token without its own (QUOTA_DEFAULTS). */
  defaults: QuotaLimits;
  /** Per token name (QUOTA_LIMITS); wins over the defaults, metric by metric. */
  perToken: Record<string, QuotaLimits>;
  /** soft: count and warn; hard: refuse (429) until the next UTC day. */
  mode: 'soft' | 'hard';
  /** The append-only log of increments (DATA_DIR/quota-usage.log). */
  file: string;
  now?: () => number;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Per-token usage per UTC day. Node runs one request's increment at a time, so counts in
 * memory are exact under concurrent requests; each increment is also appended to a log
 * (one short line, written before the request is answered) and the log is summed at start,
 * so a restart, even after SIGKILL, keeps the day's counts. The log is compacted to the
 * current day's totals at start.
 */
export class Quotas {
  private readonly counts = new Map<string, number>();
  private day: string;
  private readonly now: () => number;

  constructor(private readonly opts: QuotaOptions) {
    this.now = opts.now ?? Date.now;
    this.day = utcDay(this.now());
    mkdirSync(dirname(opts.file), { recursive: true });
    let text = '';
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch {
      // no usage yet
    }
    for (const line of text.split('\n')) {
      const [day, metric, n, ...name] = line.split('\t');
      if (day !== this.day || !metric || !n) continue; // other days, or a line torn by a crash
      const count = Number(n);
      if (!Number.isFinite(count)) continue;
      const key = `${metric}\t${name.join('\t')}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + count);
    }
    const compact = [...this.counts].map(
      ([k, v]) => `${this.day}\t${k.split('\t')[0]}\t${v}\t${k.split('\t').slice(1).join('\t')}\n`,
    );
    writeFileSync(opts.file, compact.join(''));
  }

  /** A token's own limit, else the default (which admin tokens are exempt from). */
  limit(token: string, metric: QuotaMetric, admin = false): number | undefined {
    return this.opts.perToken[token]?.[metric] ?? (admin ? undefined : this.opts.defaults[metric]);
  }

  get mode(): 'soft' | 'hard' {
    return this.opts.mode;
  }

  state(token: string, metric: QuotaMetric, admin = false): QuotaState {
    this.roll();
    const current = this.counts.get(`${metric}\t${token}`) ?? 0;
    const limit = this.limit(token, metric, admin);
    return { exceeded: limit !== undefined && current >= limit, current, limit: limit ?? null };
  }

  /** Counts n more; returns the state after. */
  add(token: string, metric: QuotaMetric, n: number, admin = false): QuotaState {
    this.roll();
    if (n > 0) {
      const key = `${metric}\t${token}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + n);
      appendFileSync(this.opts.file, `${this.day}\t${metric}\t${n}\t${token}\n`);
    }
    return this.state(token, metric, admin);
  }

  /** Seconds until the next UTC midnight, when every count starts again. */
  secondsToReset(): number {
    const now = this.now();
    const next = Date.UTC(
      new Date(now).getUTCFullYear(),
      new Date(now).getUTCMonth(),
      new Date(now).getUTCDate() + 1,
    );
    return Math.max(1, Math.ceil((next - now) / 1000));
  }

  private roll(): void {
    const today = utcDay(this.now());
    if (today !== this.day) {
      this.day = today;
      this.counts.clear();
    }
  }
}

/** QUOTA_DEFAULTS / QUOTA_LIMITS as JSON, checked: only known metrics, non-negative integers. */
export function parseQuotaLimits(text: string | undefined, what: string): QuotaLimits {
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(
      `${what}: not JSON; expected e.g. {"rows_ingested_daily": 1000000, "pipe_requests_daily": 50000}`,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${what}: expected a JSON object`);
  const limits: QuotaLimits = {};
  for (const [k, v] of Object.entries(value)) {
    if (!(QUOTA_METRICS as readonly string[]).includes(k))
      throw new Error(`${what}: unknown quota "${k}"; known: ${QUOTA_METRICS.join(', ')}`);
    if (!Number.isInteger(v) || (v as number) < 0)
      throw new Error(`${what}: "${k}" must be a whole number ≥ 0`);
    limits[k as QuotaMetric] = v as number;
  }
  return limits;
}

/** QUOTA_LIMITS: {"<token name>": {"<metric>": N}}. */
export function parsePerTokenLimits(text: string | undefined): Record<string, QuotaLimits> {
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('QUOTA_LIMITS: not JSON; expected e.g. {"dashboard": {"pipe_requests_daily": 10000}}');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error('QUOTA_LIMITS: expected a JSON object');
  return Object.fromEntries(
    Object.entries(value).map(([name, limits]) => [
      name,
      parseQuotaLimits(JSON.stringify(limits), `QUOTA_LIMITS.${name}`),
    ]),
  );
}
