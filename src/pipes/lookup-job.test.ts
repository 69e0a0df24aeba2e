import { describe, expect, it } from 'vitest';
import { compilePipe } from './compile.js';
import { parseDatafile } from './datafile.js';
import { lookupJob } from './lookup-job.js';

const file = (tag: string, batchSql: string) =>
  parseDatafile(`TAGS "${tag}"

NODE one
SQL >
    %
    SELECT v FROM t WHERE k = {{ String(k, required=True) }} LIMIT {{ UInt32(limit, 10) }}

TYPE endpoint

NODE many
SQL >
    %
    ${batchSql}
`);
const BATCH =
  "SELECT k AS __key, v FROM t WHERE k IN {{ Array(k, 'String') }} LIMIT {{ UInt32(limit, 10) }} BY k";

describe('the coalesce tag and its jobs', () => {
  it('keeps the batch node apart: its Array parameter is not one a caller sends', () => {
    const pipe = compilePipe('p', 'p.pipe', file('coalesce:k:many', BATCH));
    expect(pipe.endpoint).toBe('one');
    expect(pipe.params.filter((s) => s.name === 'k').map((s) => s.isArray)).toEqual([false]);
    expect(pipe.batch?.params.find((s) => s.name === 'k')?.isArray).toBe(true);
  });

  it('refuses a tag without its node, or a node that does not read the parameter as Array(String)', () => {
    expect(() => compilePipe('p', 'p.pipe', file('coalesce:k:nope', BATCH))).toThrow(/naming a node/);
    expect(() =>
      compilePipe('p', 'p.pipe', file('coalesce:k:many', 'SELECT {{ String(k) }} AS __key')),
    ).toThrow(/Array\(k, 'String'\)/);
  });

  it('groups by everything but the key, takes the limit, and leaves out keys an Array would split', async () => {
    const pipe = compilePipe('p', 'p.pipe', file('coalesce:k:many', BATCH));
    const ran: Array<[string, Record<string, unknown>]> = [];
    const ctx = {
      toQuery: (s: string) => `${s} FORMAT JSON`,
      run: async (q: string, p: Record<string, unknown>) => {
        ran.push([q, p]);
        return '';
      },
    };
    const job = (k: string[], limit?: string) => {
      const req = new Map([['k', k], ...(limit ? [['limit', [limit]] as [string, string[]]] : [])]);
      return lookupJob(pipe, req, { query: 'solo', params: {} }, ctx);
    };
    expect(job(['a'])?.limit).toBe(10);
    expect(job(['a'], '3')?.limit).toBe(3);
    expect(job(['a'])?.group).toBe(job(['b'])?.group);
    expect(job(['a'])?.group).not.toBe(job(['a'], '3')?.group);
    for (const k of [['a,b'], [''], ['a', 'b']]) expect(job(k)).toBeUndefined();
    await job(['a'])?.batch(['a', 'b,c']);
    expect(ran[0]?.[0]).toContain('IN {p_k:Array(String)}');
    expect(ran[0]?.[1]).toMatchObject({ p_k: ['a', 'b', 'c'] });
  });
});
