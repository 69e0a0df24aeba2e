import { parseError } from '@clickhouse/client-common';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SqlRefused } from '../sql/guard.js';
import { ClickHouseException, exceptionBody, exceptionStatus, toException } from './exception.js';

describe('exception bodies', () => {
  it('parse back with clickhouse-js into the same code and type, whatever the message', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 999 }),
        fc.stringMatching(/^[A-Z]{3,12}(_[A-Z0-9]{1,8}){0,3}$/),
        fc.string({ minLength: 1 }),
        (code, type, message) => {
          const err = parseError(exceptionBody(new ClickHouseException(code, type, message), '26.1')) as {
            code?: string;
            type?: string;
          };
          expect(err.code).toBe(String(code));
          expect(err.type).toBe(type);
        },
      ),
    );
  });

  it('maps guard refusals onto READONLY, ACCESS_DENIED and SYNTAX_ERROR', () => {
    const write = toException(new SqlRefused('only SELECT, ... are allowed (got InsertQuery)', 403));
    expect([write.code, write.type, exceptionStatus(write)]).toEqual([164, 'READONLY', 403]);
    const fn = toException(new SqlRefused('the table function url() is not allowed', 403));
    expect([fn.code, fn.type, exceptionStatus(fn)]).toEqual([497, 'ACCESS_DENIED', 403]);
    const two = toException(new SqlRefused('Send exactly one SQL statement', 400));
    expect([two.code, exceptionStatus(two)]).toEqual([62, 400]);
  });

  it('keeps the code and type of a chDB error and drops its own framing', () => {
    const e = toException(
      Object.assign(new Error('Code: 60. DB::Exception: Unknown table nope. (UNKNOWN_TABLE)'), {
        code: '60',
        type: 'UNKNOWN_TABLE',
      }),
    );
    expect([e.code, e.type, e.message, exceptionStatus(e)]).toEqual([
      60,
      'UNKNOWN_TABLE',
      'Unknown table nope',
      404,
    ]);
  });
});
