/**
 * Realistic feature_events generator: Zipf-skewed users, features and versions, sessions
 * that follow users through time, timestamps in arrival order over a time span.
 * Deterministic: the same options (seed, count, end time, ...) always give the same rows.
 *
 *   npm run generate -- --count 1000000 --out events.ndjson
 *   npm run generate -- --count 100000 --post http://127.0.0.1:7181 --token "$TB_ADMIN_TOKEN"
 *
 * Also a library: scripts/bench uses makeGenerator() to build the same rows in-process.
 */
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface GeneratorOptions {
  seed: number;
  /** Distinct users (Zipf-skewed activity). */
  users: number;
  /** Distinct features (Zipf-skewed popularity). */
  features: number;
  /** Distinct product versions (Zipf-skewed: a few current versions carry most traffic). */
  versions: number;
  /** Timestamps span [end - spanDays, end], increasing with the row index (arrival order). */
  spanDays: number;
  /** End of the span, epoch ms (rounded down to the second). */
  endMs: number;
  /** A session is one user's activity within this many minutes. */
  sessionMinutes: number;
  /** Zipf exponents. */
  userSkew: number;
  featureSkew: number;
  versionSkew: number;
  /** Rows the timestamps are spread over (the planned total; rows past it keep going at the same rate). */
  plannedRows: number;
  /** Customer accounts the users belong to (account_id); 0 = rows without account_id, as a Tinybird client sends. */
  accounts: number;
}

export const DEFAULTS: GeneratorOptions = {
  seed: 42,
  users: 100_000,
  features: 40,
  versions: 8,
  spanDays: 90,
  endMs: Date.now(),
  sessionMinutes: 30,
  userSkew: 0.9,
  featureSkew: 1.1,
  versionSkew: 1.2,
  plannedRows: 1_000_000,
  accounts: 0,
};

// The row as the ingest schema stores it: the generator writes exactly that.
import type { FeatureEvent } from '../src/ingest/index.js';

export type { FeatureEvent };

/** mulberry32: tiny, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples 0..n-1 with P(k) ∝ 1/(k+1)^s (binary search over the cumulative weights). */
export function zipf(n: number, s: number, rnd: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  return () => {
    const x = rnd() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const FEATURE_STEMS = [
  'recommendations',
  'search',
  'export',
  'share',
  'dark_mode',
  'notifications',
  'dashboard',
  'comments',
  'upload',
  'filters',
  'calendar',
  'chat',
  'billing',
  'reports',
  'tags',
  'templates',
  'import',
  'api_keys',
  'sso',
  'audit_log',
  'webhooks',
  'themes',
  'shortcuts',
  'offline',
  'mentions',
  'reactions',
  'archive',
  'favorites',
  'history',
  'insights',
  'forecast',
  'alerts',
  'integrations',
  'mobile_sync',
  'print',
  'kanban',
  'timeline',
  'goals',
  'automation',
  'assistant',
]; // prettier-ignore
const EVENT_TYPES = [
  'feature_used',
  'feature_used',
  'feature_used',
  'feature_viewed',
  'feature_viewed',
  'feature_enabled',
];
const RESULTS = ['success', 'success', 'success', 'success', 'error', 'cancelled'];
const PLATFORMS = ['web', 'ios', 'android', 'desktop'];

export const featureName = (k: number) =>
  `feature_${FEATURE_STEMS[k % FEATURE_STEMS.length]}${k >= FEATURE_STEMS.length ? `_${Math.floor(k / FEATURE_STEMS.length)}` : ''}`;
/** Newest version first: v0 = 3.<n-1>.0 ... so the Zipf head is the current release. */
export const versionName = (k: number, n: number) =>
  `${2 + Math.floor((n - 1 - k) / 10)}.${(n - 1 - k) % 10}.${k % 3}`;
export const userName = (u: number) => `usr_${u}`;

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
export function formatTs(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export interface Generator {
  readonly options: GeneratorOptions;
  /** Index of the next row. */
  readonly index: number;
  next(): FeatureEvent;
  /** The next n rows as NDJSON (one line per row, trailing newline). */
  ndjson(n: number): string;
  /** Tab-separated lines for PostgreSQL COPY (text format): the same rows as ndjson() would give. */
  tsv(n: number): string;
  /** Samplers for query parameters that hit the same skew as the data. */
  sampleUser(): string;
  sampleFeature(): string;
  featureNames: string[];
  versionNames: string[];
}

export function makeGenerator(partial: Partial<GeneratorOptions> = {}): Generator {
  const o: GeneratorOptions = { ...DEFAULTS, ...partial };
  const rnd = prng(o.seed);
  const qrnd = prng(o.seed ^ 0x5bd1e995);
  const pickUser = zipf(o.users, o.userSkew, rnd);
  const pickFeature = zipf(o.features, o.featureSkew, rnd);
  const pickVersion = zipf(o.versions, o.versionSkew, rnd);
  const qUser = zipf(o.users, o.userSkew, qrnd);
  const qFeature = zipf(o.features, o.featureSkew, qrnd);
  // A fixed random permutation so user ids are not ordered by activity. It depends only on
  // the user count, so data sets generated with different seeds share the same heavy users.
  const prand = prng(0x9e3779b9 ^ o.users);
  const perm = new Uint32Array(o.users);
  for (let i = 0; i < o.users; i++) perm[i] = i;
  for (let i = o.users - 1; i > 0; i--) {
    const j = Math.floor(prand() * (i + 1));
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  const featureNames = Array.from({ length: o.features }, (_, k) => featureName(k));
  const versionNames = Array.from({ length: o.versions }, (_, k) => versionName(k, o.versions));
  const endMs = Math.floor(o.endMs / 1000) * 1000;
  const spanMs = o.spanDays * 86_400_000;
  const startMs = endMs - spanMs;
  const stepMs = spanMs / Math.max(1, o.plannedRows);
  const sessionMs = o.sessionMinutes * 60_000;
  const seed36 = o.seed.toString(36);
  let i = 0;
  const next = (): FeatureEvent => {
    const u = perm[pickUser()] as number;
    // Arrival order with a little jitter (up to a minute late), never past the end.
    const ms = Math.min(endMs, Math.floor(startMs + i * stepMs - rnd() * 60_000));
    const ev: FeatureEvent = {
      event_id: `evt_${seed36}_${i.toString(36)}`,
      user_id: userName(u),
      feature_id: featureNames[pickFeature()] as string,
      product_version: versionNames[pickVersion()] as string,
      event_type: EVENT_TYPES[Math.floor(rnd() * EVENT_TYPES.length)] as string,
      timestamp: formatTs(ms),
      // Sessions: a user's 30-minute windows (offset per user so windows do not all align).
      session_id: `sess_${u.toString(36)}_${Math.floor((ms + (u % 97) * 18_553) / sessionMs).toString(36)}`,
      metadata: `{"duration_seconds":${Math.floor(rnd() ** 2 * 600)},"result":"${RESULTS[Math.floor(rnd() * RESULTS.length)]}","platform":"${PLATFORMS[Math.floor(rnd() * PLATFORMS.length)]}"}`,
    };
    // A user always belongs to the same account; accounts differ in size as users do.
    if (o.accounts > 0) ev.account_id = `acct_${(u % o.accounts).toString(36)}`;
    i++;
    return ev;
  };
  return {
    options: o,
    get index() {
      return i;
    },
    next,
    ndjson(n) {
      const parts: string[] = new Array(n);
      for (let k = 0; k < n; k++) parts[k] = JSON.stringify(next());
      return `${parts.join('\n')}\n`;
    },
    tsv(n) {
      const parts: string[] = new Array(n);
      for (let k = 0; k < n; k++) {
        const e = next();
        // None of the generated values hold tabs, newlines or backslashes.
        parts[k] =
          `${e.event_id}\t${e.user_id}\t${e.feature_id}\t${e.product_version}\t${e.event_type}\t${e.timestamp}\t${e.session_id}\t${e.metadata}`;
      }
      return `${parts.join('\n')}\n`;
    },
    sampleUser: () => userName(perm[qUser()] as number),
    sampleFeature: () => featureNames[qFeature()] as string,
    featureNames,
    versionNames,
  };
}

/** A one-line progress bar on stderr (only redrawn every 1% or 200 ms). */
export function progress(
  label: string,
  total: number,
): { tick(done: number): void; done(note?: string): void } {
  const started = Date.now();
  let lastDraw = 0;
  const tty = process.stderr.isTTY;
  const draw = (done: number, final = false) => {
    const now = Date.now();
    if (!final && now - lastDraw < (tty ? 200 : 5_000)) return;
    lastDraw = now;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const secs = (now - started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    const line = `${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${rate.toLocaleString('en')}/s ${secs.toFixed(1)}s`;
    if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
  return {
    tick: (done) => draw(done),
    done: (note) => {
      draw(total, true);
      if (note) process.stderr.write(`  ${note}\n`);
    },
  };
}

function post(url: URL, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Length': Buffer.byteLength(body) },
        timeout: 120_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '100000' },
      seed: { type: 'string', default: String(DEFAULTS.seed) },
      users: { type: 'string', default: String(DEFAULTS.users) },
      features: { type: 'string', default: String(DEFAULTS.features) },
      versions: { type: 'string', default: String(DEFAULTS.versions) },
      'span-days': { type: 'string', default: String(DEFAULTS.spanDays) },
      end: { type: 'string' },
      'session-minutes': { type: 'string', default: String(DEFAULTS.sessionMinutes) },
      'user-skew': { type: 'string', default: String(DEFAULTS.userSkew) },
      'feature-skew': { type: 'string', default: String(DEFAULTS.featureSkew) },
      accounts: { type: 'string', default: '0' },
      out: { type: 'string' },
      post: { type: 'string' },
      token: { type: 'string', default: process.env.TB_ADMIN_TOKEN ?? '' },
      'batch-rows': { type: 'string', default: '10000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || (!values.out && !values.post)) {
    process.stderr.write(
      `usage: npm run generate -- --count N (--out FILE | --post http://HOST:PORT [--token T]) [options]
  --seed N (42)  --users N (100000)  --features N (40)  --versions N (8)  --span-days N (90)
  --end "YYYY-MM-DD HH:MM:SS" (UTC; default now: pass it to reproduce a file exactly)
  --session-minutes N (30)  --user-skew S (0.9)  --feature-skew S (1.1)  --batch-rows N (10000, with --post)
  --accounts N (0: no account_id; else users belong to N accounts)
`,
    );
    process.exit(values.help ? 0 : 2);
  }
  const count = Number(values.count);
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got ${v}`);
    return n;
  };
  const endMs = values.end ? Date.parse(`${values.end.replace(' ', 'T')}Z`) : Date.now();
  if (Number.isNaN(endMs)) throw new Error(`--end: expected "YYYY-MM-DD HH:MM:SS", got ${values.end}`);
  const gen = makeGenerator({
    seed: num(values.seed, 'seed'),
    users: num(values.users, 'users'),
    features: num(values.features, 'features'),
    versions: num(values.versions, 'versions'),
    spanDays: num(values['span-days'], 'span-days'),
    sessionMinutes: num(values['session-minutes'], 'session-minutes'),
    userSkew: num(values['user-skew'], 'user-skew'),
    featureSkew: num(values['feature-skew'], 'feature-skew'),
    endMs,
    plannedRows: num(String(count), 'count'),
    accounts: Number(values.accounts) >= 0 ? Math.floor(Number(values.accounts)) : 0,
  });
  const batch = num(values['batch-rows'], 'batch-rows');
  const bar = progress(values.post ? 'posting' : 'writing', count);
  if (values.out) {
    const out = createWriteStream(values.out);
    for (let done = 0; done < count; ) {
      const n = Math.min(batch, count - done);
      if (!out.write(gen.ndjson(n))) await new Promise<void>((r) => out.once('drain', () => r()));
      done += n;
      bar.tick(done);
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    bar.done(`wrote ${values.out}`);
    return;
  }
  const url = new URL('/v0/events?name=feature_events', values.post);
  let quarantined = 0;
  for (let done = 0; done < count; ) {
    const n = Math.min(batch, count - done);
    const body = gen.ndjson(n);
    let res = await post(url, values.token, body);
    // Back off on 503 (ingest behind), a bounded number of times.
    for (let tries = 0; res.status === 503 && tries < 60; tries++) {
      await new Promise((r) => setTimeout(r, 500));
      res = await post(url, values.token, body);
    }
    if (res.status >= 300) throw new Error(`POST failed with ${res.status}: ${res.text}`);
    quarantined += (JSON.parse(res.text) as { quarantined_rows?: number }).quarantined_rows ?? 0;
    done += n;
    bar.tick(done);
  }
  bar.done(`posted to ${url.origin}${quarantined ? `, ${quarantined} rows quarantined` : ''}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().catch((err) => {
    // One line: node's parseArgs explains some mistakes over three.
    process.stderr.write(
      `generate-events: ${String(err instanceof Error ? err.message : err).replace(/\s*\n\s*/g, ' ')}\n`,
    );
    process.exit(1);
  });
}
