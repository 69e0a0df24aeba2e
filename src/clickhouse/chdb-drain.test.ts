import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drainAfterError } from './chdb-drain.js';
import type { Session } from './reader.js';

describe('drainAfterError', () => {
  it('drains a session whose query failed, on that same session, then passes the error on', async () => {
    const log: string[] = [];
    const session: Session = {
      exec: async ({ query }) => {
        log.push(query);
        if (query.includes('slow')) throw Object.assign(new Error('timeout'), { code: '159' });
        if (query.includes('broken')) throw Object.assign(new Error('no table'), { code: '60' });
        const stream = new PassThrough();
        stream.end();
        return { stream };
      },
      query: async () => ({ json: async () => [] }),
      command: async () => {},
      close: async () => {},
    };
    const wrapped = drainAfterError(session);
    await expect(wrapped.exec({ query: 'slow' })).rejects.toThrow('timeout');
    expect(log).toEqual(['slow', 'SELECT 1 FORMAT TSV']);
    await expect(wrapped.exec({ query: 'broken' })).rejects.toThrow('no table');
    expect(log).toEqual(['slow', 'SELECT 1 FORMAT TSV', 'broken', 'SELECT 1 FORMAT TSV']);
    await wrapped.exec({ query: 'fine' });
    expect(log.at(-1)).toBe('fine'); // a success is not followed by a drain
  });
});
