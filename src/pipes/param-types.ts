/**
 * The parameter types a template can declare ({{ Int32(limit, 10) }}): how a query-string
 * value is checked and converted, which ClickHouse type it is bound as, and how OpenAPI
 * describes it. A value that does not pass never reaches ClickHouse.
 */
export type ParamValue = string | number | bigint | boolean | ParamValue[];

export interface ParamType {
  /** The name used in templates: Int32, DateTime, ... */
  name: string;
  /** The ClickHouse type in the `{p_name:Type}` placeholder. */
  chType: string;
  /** What the caller must send, for error messages. */
  expected: string;
  /** A valid value, for error messages and OpenAPI when the pipe gives no example. */
  sample: string;
  openapi: { type: 'string' | 'integer' | 'number' | 'boolean'; format?: string };
  parse(raw: string): ParamValue | undefined;
}

/** Longest string value we bind: long enough for any id, short enough to refuse abuse. */
export const MAX_STRING_LENGTH = 10_000;

function intType(name: string, bits: number, signed: boolean): ParamType {
  const min = signed ? -(2n ** BigInt(bits - 1)) : 0n;
  const max = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
  return {
    name,
    chType: name,
    expected: `an integer from ${min} to ${max}`,
    sample: '10',
    // UInt32 does not fit int32.
    openapi: { type: 'integer', format: bits < 32 || (signed && bits === 32) ? 'int32' : 'int64' },
    parse(raw) {
      const s = raw.trim();
      if (!/^[-+]?\d{1,80}$/.test(s)) return undefined;
      const n = BigInt(s);
      if (n < min || n > max) return undefined;
      // Beyond 2^53 keep a bigint so the bound value is exact.
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    },
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Checks a calendar date (no 2023-02-30) within what ClickHouse DateTime can hold. */
function validDate(y: number, mo: number, d: number): boolean {
  if (y < 1970 || y > 2105 || mo < 1 || mo > 12 || d < 1) return false;
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]00:?00)?$/;

function parseDateTime(raw: string, withFraction: boolean): string | undefined {
  const m = raw.trim().match(DATETIME_RE);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  if (m[7] && !withFraction) return undefined;
  const base = `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
  return withFraction ? `${base}.${(m[7] ?? '').padEnd(6, '0')}` : base;
}

const TYPES: ParamType[] = [
  {
    name: 'String',
    chType: 'String',
    expected: `a string of at most ${MAX_STRING_LENGTH} characters`,
    sample: 'example',
    openapi: { type: 'string' },
    parse: (raw) => (raw.length <= MAX_STRING_LENGTH ? raw : undefined),
  },
  {
    name: 'Boolean',
    chType: 'Bool',
    expected: 'true, false, 1 or 0',
    sample: 'true',
    openapi: { type: 'boolean' },
    parse: (raw) => {
      const s = raw.trim().toLowerCase();
      return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : undefined;
    },
  },
  {
    name: 'Float32',
    chType: 'Float32',
    expected: 'a number such as 1.5',
    sample: '1.5',
    openapi: { type: 'number', format: 'float' },
    parse: parseFloatValue,
  },
  {
    name: 'Float64',
    chType: 'Float64',
    expected: 'a number such as 1.5',
    sample: '1.5',
    openapi: { type: 'number', format: 'double' },
    parse: parseFloatValue,
  },
  {
    name: 'Date',
    chType: 'Date',
    expected: "a date 'YYYY-MM-DD' between 1970-01-01 and 2105-12-31",
    sample: '2024-01-31',
    openapi: { type: 'string', format: 'date' },
    parse: (raw) => {
      const m = raw.trim().match(DATE_RE);
      if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return undefined;
      return raw.trim();
    },
  },
  {
    name: 'DateTime',
    chType: "DateTime('UTC')",
    expected: "a UTC date and time 'YYYY-MM-DD HH:MM:SS' (or 'YYYY-MM-DD')",
    sample: '2024-01-31 13:45:00',
    openapi: { type: 'string', format: 'date-time' },
    parse: (raw) => parseDateTime(raw, false),
  },
  {
    name: 'DateTime64',
    chType: "DateTime64(6, 'UTC')",
    expected: "a UTC date and time 'YYYY-MM-DD HH:MM:SS[.ffffff]'",
    sample: '2024-01-31 13:45:00.250',
    openapi: { type: 'string', format: 'date-time' },
    parse: (raw) => parseDateTime(raw, true),
  },
];
for (const bits of [8, 16, 32, 64, 128, 256]) {
  TYPES.push(intType(`Int${bits}`, bits, true), intType(`UInt${bits}`, bits, false));
}

function parseFloatValue(raw: string): number | undefined {
  const s = raw.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

const BY_NAME = new Map(TYPES.map((t) => [t.name, t]));
// Tinybird's aliases.
BY_NAME.set('Int', BY_NAME.get('Int32') as ParamType);
BY_NAME.set('Integer', BY_NAME.get('Int32') as ParamType);
BY_NAME.set('Bool', BY_NAME.get('Boolean') as ParamType);

export function paramType(name: string): ParamType | undefined {
  return BY_NAME.get(name);
}

/** Names callable as typed-parameter functions in templates (Array handled separately). */
export const TYPE_FUNCTIONS: ReadonlySet<string> = new Set(BY_NAME.keys());

/** The ClickHouse type of a JS value a template produced itself (not a declared parameter). */
export function inferChType(v: ParamValue): string {
  if (typeof v === 'string') return 'String';
  if (typeof v === 'boolean') return 'Bool';
  if (typeof v === 'bigint') return 'Int256';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Int64' : 'Float64';
  const first = v[0];
  return `Array(${first === undefined ? 'String' : inferChType(first)})`;
}

/** Splits an Array parameter: repeated keys (?a=1&a=2) and comma-separated values (?a=1,2) both count. */
export function splitArrayValues(raws: string[]): string[] {
  return raws
    .flatMap((r) => r.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
