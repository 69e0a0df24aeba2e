import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Reader } from './reader.js';
import { sessionPool } from './session-pool.js';

/** A fake session recording its queries; a query containing "slow" times out with code 159. */
function fakeSession(name: string, log: string[]) {
  const streams: PassThrough[] = [];
  const session: Reader = {
    exec: async ({ query }) => {
      log.push(`${name}:${query}`);
      if (query.includes('slow')) throw Object.assign(new Error('timeout'), { code: '159' });
      const stream = new PassThrough();
      if (query.startsWith('SELECT 1')) stream.end();
      else streams.push(stream);
      return { stream };
    },
    query: async ({ query }) => {
      log.push(`${name}:${query}`);
      if (query.includes('slow')) throw Object.assign(new Error('timeout'), { code: '159' });
      return { json: async () => [] };
    },
  };
  const finishAll = () => {
    for (const s of streams.splice(0)) s.resume().end();
  };
  return { session, finishAll };
}

describe('sessionPool', () => {
  it('sends each query to the session with the fewest running, until its stream ends', async () => {
    const log: string[] = [];
    const a = fakeSession('a', log);
    const b = fakeSession('b', log);
    const pool = sessionPool([a.session, b.session]);
    await pool.exec({ query: 'q1' });
    await pool.exec({ query: 'q2' });
    await pool.exec({ query: 'q3' }); // both busy with one: the first wins
    expect(log).toEqual(['a:q1', 'b:q2', 'a:q3']);
    a.finishAll();
    await new Promise((r) => setImmediate(r));
    await pool.exec({ query: 'q4' }); // a is free again, b still runs q2
    expect(log.at(-1)).toBe('a:q4');
  });

  it('counts a rows query until its answer is in, failed or not', async () => {
    const log: string[] = [];
    const a = fakeSession('a', log);
    const b = fakeSession('b', log);
    const pool = sessionPool([a.session, b.session]);
    await pool.exec({ query: 'q1' }); // a stays busy until its stream ends
    await pool.query({ query: 'r1', format: 'JSONEachRow' });
    await expect(pool.query({ query: 'slow', format: 'JSONEachRow' })).rejects.toThrow('timeout');
    await pool.query({ query: 'r2', format: 'JSONEachRow' });
    expect(log).toEqual(['a:q1', 'b:r1', 'b:slow', 'b:r2']);
  });
});
