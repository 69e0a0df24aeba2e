import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQuotaLimits, Quotas } from './quotas.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'fe-quota-')), 'quota-usage.log');

describe('Quotas', () => {
  it('counts exactly, and a new instance on the same log (a restart) has the same counts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b\tc'), fc.nat(1000)), { maxLength: 50 }),
        (adds) => {
          const f = file();
          const q = new Quotas({
            defaults: { pipe_requests_daily: 10 },
            perToken: {},
            mode: 'hard',
            file: f,
          });
          for (const [t, n] of adds) q.add(t, 'pipe_requests_daily', n);
          const again = new Quotas({
            defaults: { pipe_requests_daily: 10 },
            perToken: {},
            mode: 'hard',
            file: f,
          });
          for (const t of ['a', 'b\tc']) {
            const sum = adds.filter(([x]) => x === t).reduce((s, [, n]) => s + n, 0);
            expect(again.state(t, 'pipe_requests_daily')).toEqual({
              exceeded: sum >= 10,
              current: sum,
              limit: 10,
            });
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('starts again at the next UTC day, ignores a torn last line, and uses per-token limits first', () => {
    let now = Date.UTC(2026, 0, 1, 23, 59, 0);
    const f = file();
    const q = new Quotas({
      defaults: { rows_ingested_daily: 5 },
      perToken: { big: { rows_ingested_daily: 100 } },
      mode: 'hard',
      file: f,
      now: () => now,
    });
    expect(q.add('t', 'rows_ingested_daily', 7)).toEqual({ exceeded: true, current: 7, limit: 5 });
    expect(q.add('big', 'rows_ingested_daily', 7).exceeded).toBe(false);
    expect(q.secondsToReset()).toBe(60);
    now += 61_000;
    expect(q.state('t', 'rows_ingested_daily').current).toBe(0);
    expect(readFileSync(f, 'utf8')).toContain('2026-01-01\trows_ingested_daily\t7\tt');
  });

  it('parses QUOTA_DEFAULTS and names what is wrong', () => {
    expect(parseQuotaLimits('{"pipe_requests_daily": 3}', 'QUOTA_DEFAULTS')).toEqual({
      pipe_requests_daily: 3,
    });
    expect(() => parseQuotaLimits('{"builds_daily": 3}', 'QUOTA_DEFAULTS')).toThrow(
      /unknown quota "builds_daily"/,
    );
    expect(() => parseQuotaLimits('{"pipe_requests_daily": -1}', 'QUOTA_DEFAULTS')).toThrow(/whole number/);
    expect(() => parseQuotaLimits('nope', 'QUOTA_DEFAULTS')).toThrow(/not JSON/);
  });
});
