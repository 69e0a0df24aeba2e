/**
 * What answering n point lookups of one pipe as ONE query saves (issue 15, read-coalescer.ts),
 * in this process on a COPY of a read-path data dir (chDB locks a data dir). Per pipe, for
 * n distinct users, alternately:
 *   solo   n queries, one after the other (what the route does today);
 *   union  one `SELECT 0 AS __q, * FROM (q0) UNION ALL SELECT 1, * FROM (q1) ...` (the
 *          coalescer's form: any pipe, its rendered SQL unchanged, parameters renamed per member);
 *   in     one hand-written `WHERE user_id IN (...)` query with `LIMIT k BY user_id` (what a
 *          pipe-specific form could reach).
 * Prints wall time and chDB's CPU time (ProfileEvents OSCPUVirtualTimeMicroseconds) per round,
 * medians over --rounds.
 *
 *   node --import tsx scripts/bench/coalesce-cost.ts --dir /tmp/f41/r10m --n 16 --rounds 30
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from 'chdb';
import { loadPipes, renderPipe } from '../../src/pipes/index.js';
import { makeGenerator } from '../generate-events.js';
import { analyticsParams } from './analytics.js';
import { log, ROOT, stats } from './lib.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    n: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '30' },
    pipes: { type: 'string', default: 'user_feature_usage,user_recent_features,events' },
  },
});
if (!args.dir) throw new Error('--dir: a copy of a read-path data dir');
const N = Number(args.n);
const ROUNDS = Number(args.rounds);
const meta = JSON.parse(readFileSync(join(args.dir, 'read-path-meta.json'), 'utf8')) as { endMs: number };
const SETTINGS = 'SETTINGS max_execution_time = 10, output_format_json_quote_64bit_integers = 0';

type Params = Record<string, string>;
const gen = makeGenerator({ seed: 99, plannedRows: 1, endMs: meta.endMs, users: 100_000 });
const paramsFor = (pipe: string, i: number): Params => {
  if (pipe === 'user_feature_usage') return { user_id: gen.sampleUser() };
  if (pipe === 'events') return analyticsParams('events', gen, meta.endMs, i * 2 + 1);
  return analyticsParams(pipe as 'user_recent_features', gen, meta.endMs, i);
};

/** The pipe's answer for many users in one query, written by hand for the bench's parameters. */
function inForm(pipe: string, users: Params[]): { sql: string; params: Record<string, unknown> } {
  const ids = users.map((u) => u.user_id);
  const p = users[0] as Params;
  if (pipe === 'user_feature_usage')
    return {
      sql: `SELECT user_id, feature_id, product_version, sum(events) AS events, uniqExactMerge(sessions) AS sessions,
          toDateTime(min(first_seen), 'UTC') AS first_used, toDateTime(max(last_seen), 'UTC') AS last_used
        FROM feature_usage_by_user WHERE user_id IN {ids:Array(String)}
        GROUP BY user_id, feature_id, product_version ORDER BY user_id, feature_id, product_version LIMIT 1000 BY user_id`,
      params: { ids },
    };
  if (pipe === 'user_recent_features')
    return {
      sql: `SELECT user_id, feature_id, count() AS events, max(timestamp) AS last_used FROM feature_events
        WHERE user_id IN {ids:Array(String)} AND timestamp >= {s:DateTime} AND timestamp <= {e:DateTime}
        GROUP BY user_id, feature_id ORDER BY user_id, last_used DESC, feature_id`,
      params: { ids, s: p.start_date, e: p.end_date },
    };
  return {
    sql: `SELECT timestamp, event_id, user_id, account_id, feature_id, product_version, event_type, session_id, metadata
      FROM feature_events WHERE timestamp >= {s:DateTime} AND timestamp <= {e:DateTime} AND user_id IN {ids:Array(String)}
      ORDER BY user_id, timestamp DESC, event_id DESC LIMIT 100 BY user_id`,
    params: { ids, s: p.start_date, e: p.end_date },
  };
}

/* The union form, as a generic coalescer would build it: each member a branch, ordered back. */
/** The SQL with every placeholder {name:Type} of a bound parameter renamed to {<prefix>name:Type}; string literals untouched. */
function renameParams(
  sql: string,
  params: Record<string, unknown>,
  prefix: string,
): { sql: string; params: Record<string, unknown> } {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'" || ch === '"' || ch === '`') {
      // A quoted literal or identifier: copied as is, up to its unescaped closing quote.
      let j = i + 1;
      while (j < sql.length && sql[j] !== ch) j += sql[j] === '\\' ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '{') {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*):/.exec(sql.slice(i, i + 200));
      if (m && Object.hasOwn(params, m[1] as string)) {
        out += `{${prefix}${m[1]}:`;
        i += m[0].length;
        continue;
      }
    }
    out += ch;
    i++;
  }
  const renamed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) renamed[`${prefix}${k}`] = v;
  return { sql: out, params: renamed };
}

interface Member {
  sql: string;
  params: Record<string, unknown>;
}

/** The one query answering every member (without SETTINGS / FORMAT), and its parameters. */
function unionQuery(members: readonly Member[]): Member {
  const params: Record<string, unknown> = {};
  const branches = members.map((m, i) => {
    const r = renameParams(m.sql, m.params, `q${i}_`);
    Object.assign(params, r.params);
    return `SELECT ${i} AS __q, rowNumberInAllBlocks() AS __r, * FROM (\n${r.sql}\n)`;
  });
  return { sql: `SELECT * FROM (\n${branches.join('\nUNION ALL\n')}\n)\nORDER BY __q, __r`, params };
}

async function cpu(session: Session): Promise<number> {
  const r = await session.queryAsync(
    "SELECT value FROM system.events WHERE event = 'OSCPUVirtualTimeMicroseconds'",
    { format: 'TSV' },
  );
  return Number(r.text().trim());
}

async function main() {
  const path = resolve(args.dir as string, 'clickhouse');
  const session = new Session(path);
  const { pipes } = loadPipes(join(ROOT, 'pipes'));
  for (const name of (args.pipes as string).split(',')) {
    const pipe = pipes.get(name);
    if (!pipe) throw new Error(`no pipe ${name}`);
    const wall: Record<string, number[]> = { solo: [], union: [], in: [] };
    const cpus: Record<string, number[]> = { solo: [], union: [], in: [] };
    const rows: Record<string, number[]> = { solo: [], union: [], in: [] };
    for (let round = -2; round < ROUNDS; round++) {
      const users = Array.from({ length: N }, (_, i) => paramsFor(name, round * N + i + 1000));
      const rendered = users.map((u) =>
        renderPipe(pipe, new Map(Object.entries(u).map(([k, v]) => [k, [v]]))),
      );
      // Runs one query: how many rows it answered.
      const rowsOf = async (q: { sql: string; params: Record<string, unknown> }) =>
        (
          JSON.parse(
            (await session.queryBindAsync(`${q.sql}\n${SETTINGS}\nFORMAT JSON`, q.params)).text(),
          ) as { rows: number }
        ).rows;
      const forms: Record<string, () => Promise<number>> = {
        solo: async () => {
          let n = 0;
          for (const r of rendered) n += await rowsOf(r);
          return n;
        },
        union: () => rowsOf(unionQuery(rendered)),
        in: () => rowsOf(inForm(name, users)),
      };
      const order = ['solo', 'union', 'in'];
      for (let k = 0; k < (round % 3) + 3; k++) order.push(order.shift() as string); // rotate who goes first
      for (const form of order) {
        const c0 = await cpu(session);
        const t0 = performance.now();
        const n = await (forms[form] as () => Promise<number>)();
        const t = performance.now() - t0;
        const c = (await cpu(session)) - c0;
        if (round < 0) continue;
        wall[form]?.push(t);
        cpus[form]?.push(c / 1000);
        rows[form]?.push(n);
      }
    }
    const med = (xs: number[]) => stats(xs, 0, 1).p50;
    for (const form of ['solo', 'union', 'in'])
      log(
        `${name} ${N} lookups as ${form}: wall p50 ${med(wall[form] as number[])} ms, chDB CPU p50 ${med(cpus[form] as number[])} ms, rows p50 ${med(rows[form] as number[])}`,
      );
  }
  session.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
