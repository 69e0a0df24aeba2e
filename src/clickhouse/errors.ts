/**
 * Retryable or not: the one place that decides whether a failed insert is worth retrying.
 *
 * A data error (the bytes of some row cannot be parsed or do not fit the column) fails the
 * same way on every attempt: retrying it would block the batch, and everything behind it,
 * forever. Such a batch is split to isolate the rows ClickHouse rejects (see
 * insertBatchIsolating). Everything else (connection refused, timeouts, too many parts,
 * memory limits, a server restarting, unknown errors) is treated as transient and retried
 * with backoff forever: an error we do not recognise must never cost a row.
 */

// ClickHouse error codes that depend only on the rows sent (src/Common/ErrorCodes.cpp).
const DATA_ERROR_CODES = new Map<number, string>([
  [6, 'CANNOT_PARSE_TEXT'],
  [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'],
  [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
  [32, 'ATTEMPT_TO_READ_AFTER_EOF'],
  [33, 'CANNOT_READ_ALL_DATA'],
  [38, 'CANNOT_PARSE_DATE'],
  [41, 'CANNOT_PARSE_DATETIME'],
  [53, 'TYPE_MISMATCH'],
  [69, 'ARGUMENT_OUT_OF_BOUND'],
  [70, 'CANNOT_CONVERT_TYPE'],
  [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'],
  [131, 'TOO_LARGE_STRING_SIZE'],
  [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  [349, 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN'],
  [377, 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING'],
  [409, 'CANNOT_PARSE_UUID'],
  [430, 'CANNOT_PARSE_IPV4'],
  [431, 'CANNOT_PARSE_IPV6'],
]);

export type InsertErrorKind = 'data' | 'transient';

/** ClickHouse's numeric code of an error from @clickhouse/client (server or chDB), if any. */
export function clickhouseCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (e && typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  if (e && typeof e.code === 'number') return e.code;
  const m = /\bCode: (\d+)\b/.exec(String(e?.message ?? ''));
  return m ? Number(m[1]) : undefined;
}

export function classifyInsertError(err: unknown): InsertErrorKind {
  const code = clickhouseCode(err);
  return code !== undefined && DATA_ERROR_CODES.has(code) ? 'data' : 'transient';
}

export const isRetryableInsertError = (err: unknown) => classifyInsertError(err) === 'transient';

/** A short, single-line reason for the quarantine table. */
export function insertErrorReason(err: unknown): string {
  const code = clickhouseCode(err);
  const name = code === undefined ? undefined : DATA_ERROR_CODES.get(code);
  const message = String((err as Error)?.message ?? err)
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
  return `ClickHouse rejected the row${name ? ` (${name})` : ''}: ${message}`;
}

/** TIMEOUT_EXCEEDED (159) or TOO_SLOW (160): a query ran past its max_execution_time. */
export function isTimeoutError(err: unknown): boolean {
  const code = clickhouseCode(err);
  return code === 159 || code === 160;
}
