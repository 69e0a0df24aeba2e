import { clickhouseCode } from '../clickhouse/errors.js';
import { SqlRefused } from '../sql/guard.js';

/** An error answered the way a ClickHouse server answers it over HTTP. */
export class ClickHouseException extends Error {
  override name = 'ClickHouseException';
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

// ClickHouse's own mapping of exception codes to HTTP statuses (HTTPHandler), for the codes
// this listener produces; anything else is a 500 there too.
const STATUS: Record<number, number> = {
  194: 401, // REQUIRED_PASSWORD
  516: 403, // AUTHENTICATION_FAILED
  164: 403, // READONLY
  497: 403, // ACCESS_DENIED
  46: 404, // UNKNOWN_FUNCTION
  47: 404, // UNKNOWN_IDENTIFIER
  60: 404, // UNKNOWN_TABLE
  73: 404, // UNKNOWN_FORMAT
  81: 404, // UNKNOWN_DATABASE
  62: 400, // SYNTAX_ERROR
  115: 400, // UNKNOWN_SETTING
  456: 400, // UNKNOWN_QUERY_PARAMETER
  457: 400, // BAD_QUERY_PARAMETER
  36: 400, // BAD_ARGUMENTS
  26: 400,
  27: 400,
  6: 400,
  53: 400,
  43: 400, // ILLEGAL_TYPE_OF_ARGUMENT
  42: 400, // NUMBER_OF_ARGUMENTS_DOESNT_MATCH
  386: 400, // NO_COMMON_TYPE
  393: 400, // QUERY_IS_TOO_LARGE (too large a query text)
  159: 500, // TIMEOUT_EXCEEDED
};

/** A refusal of our guard or an error of chDB, as a ClickHouse exception. */
export function toException(err: unknown): ClickHouseException {
  if (err instanceof ClickHouseException) return err;
  if (err instanceof SqlRefused) {
    if (err.status === 400) return new ClickHouseException(62, 'SYNTAX_ERROR', err.message);
    return /^only SELECT/.test(err.message)
      ? new ClickHouseException(164, 'READONLY', `Cannot execute query in readonly mode: ${err.message}`)
      : new ClickHouseException(497, 'ACCESS_DENIED', `Not enough privileges: ${err.message}`);
  }
  const e = err as { message?: string; type?: string };
  const code = clickhouseCode(err) ?? 1002;
  // chDB's text already reads "Code: N. DB::Exception: ..." at times: keep only the message.
  const message = String(e.message ?? err)
    .replace(/^Code: \d+\. DB::Exception: /, '')
    .replace(/\s*\(([A-Z0-9_]+)\)\s*(\(version [^)]*\))?\s*$/, '')
    .replace(/[.\s]+$/, '');
  const type = typeof e.type === 'string' && /^[A-Z0-9_]+$/.test(e.type) ? e.type : 'UNKNOWN_EXCEPTION';
  return new ClickHouseException(code, type, message);
}

export function exceptionStatus(e: ClickHouseException): number {
  return STATUS[e.code] ?? 500;
}

/** The body ClickHouse sends: clickhouse-js and other clients parse code, message and type out of it. */
export function exceptionBody(e: ClickHouseException, version: string): string {
  const message = e.message.replace(/[.\s]+$/, '') || 'Unknown error';
  return `Code: ${e.code}. DB::Exception: ${message}. (${e.type}) (version ${version})\n`;
}
