import { type PiiGuard, quarantineModes, scrubQuarantineLine } from '../ingest/pii/index.js';
import { wellFormedJson } from '../ingest/quarantine-row.js';
import { normalizeTimestamp } from '../ingest/timestamp.js';
import type { IngestRows } from '../queue/types.js';
import type { DatasourceColumn, DatasourceFile } from './datasource-file.js';

const MAX_RAW = 64 * 1024;

/** The type under LowCardinality(...) and Nullable(...). */
function baseType(type: string): { base: string; nullable: boolean } {
  let t = type.trim();
  let nullable = false;
  for (;;) {
    const m = t.match(/^(LowCardinality|Nullable)\((.*)\)$/);
    if (!m) break;
    if (m[1] === 'Nullable') nullable = true;
    t = (m[2] as string).trim();
  }
  return { base: t, nullable };
}

type Check = { ok: true; value: unknown } | { ok: false; error: string };

/** One value against its column type; what ClickHouse should store, or why not. */
function checkValue(col: DatasourceColumn, v: unknown): Check {
  const { base } = baseType(col.type);
  const name = base.replace(/\(.*$/, '');
  if (/^U?Int\d+$/.test(name)) {
    if (typeof v === 'number' && Number.isInteger(v)) return { ok: true, value: v };
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return { ok: true, value: v };
    return { ok: false, error: `expected an integer (${base})` };
  }
  if (/^(Float\d+|Decimal\d*)$/.test(name)) {
    if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: v };
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return { ok: true, value: v };
    return { ok: false, error: `expected a number (${base})` };
  }
  if (name === 'DateTime' || name === 'DateTime64') {
    const t = typeof v === 'string' ? normalizeTimestamp(v) : undefined;
    return t === undefined
      ? { ok: false, error: 'expected a date and time: YYYY-MM-DD HH:MM:SS or ISO 8601' }
      : { ok: true, value: name === 'DateTime64' ? v : t };
  }
  if (name === 'Date' || name === 'Date32') {
    return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)
      ? { ok: true, value: v }
      : { ok: false, error: 'expected a date YYYY-MM-DD' };
  }
  if (name === 'Bool' || name === 'Boolean') {
    return typeof v === 'boolean' || v === 0 || v === 1
      ? { ok: true, value: v }
      : { ok: false, error: 'expected true or false' };
  }
  if (name === 'String' || name === 'FixedString' || name === 'UUID') {
    if (typeof v === 'string') return { ok: true, value: v };
    if (typeof v === 'number' || typeof v === 'boolean') return { ok: true, value: String(v) };
    return { ok: true, value: JSON.stringify(v) };
  }
  if (name === 'Array')
    return Array.isArray(v) ? { ok: true, value: v } : { ok: false, error: 'expected an array' };
  // Maps, tuples, JSON, ...: ClickHouse checks them; a row it refuses is quarantined by the insert.
  return { ok: true, value: v };
}

function at(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function quarantine(
  ds: DatasourceFile,
  raw: string,
  value: unknown,
  columns: string[],
  errors: string[],
): string {
  const row: Record<string, unknown> = {
    raw: raw.length > MAX_RAW ? `${raw.slice(0, MAX_RAW)}…(truncated)` : raw,
    c__error_column: columns,
    c__error: errors,
  };
  for (const c of ds.columns) {
    const v = at(value, c.jsonPath);
    if (v !== undefined && v !== null)
      row[c.name] = (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, MAX_RAW);
  }
  return wellFormedJson(JSON.stringify(row));
}

/**
 * A posted JSON value to a row of the datasource: each column read at its json:$ path and
 * checked against its type. A missing value is NULL for Nullable columns, the column's
 * DEFAULT when it has one, and otherwise the row's error. Bad rows become quarantine lines.
 */
export function datasourceRow(ds: DatasourceFile, out: IngestRows, raw: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out.quarantine.push(quarantine(ds, raw, undefined, [], ['a row must be a JSON object']));
    return;
  }
  const row: Record<string, unknown> = {};
  const columns: string[] = [];
  const errors: string[] = [];
  for (const c of ds.columns) {
    const v = at(value, c.jsonPath);
    if (v === undefined || v === null) {
      if (baseType(c.type).nullable) row[c.name] = null;
      else if (!/^(DEFAULT|MATERIALIZED|ALIAS)\b/i.test(c.rest)) {
        columns.push(c.name);
        errors.push(`${c.name}: required (json:$.${c.jsonPath.join('.')})`);
      }
      continue;
    }
    const checked = checkValue(c, v);
    if (checked.ok) row[c.name] = checked.value;
    else {
      columns.push(c.name);
      errors.push(`${c.name}: ${checked.error}, got ${JSON.stringify(v).slice(0, 60)}`);
    }
  }
  if (errors.length > 0) out.quarantine.push(quarantine(ds, raw, value, columns, errors));
  else out.events.push(wellFormedJson(JSON.stringify(row)));
}

/**
 * One posted value through the PII guard, then to a row of `ds`: with personal data it is
 * stored redacted (counted) or quarantined with where and what was found, by the policy.
 */
function guardedRow(ds: DatasourceFile, out: GuardedRows, raw: string, value: unknown, pii?: PiiGuard): void {
  const record = value !== null && typeof value === 'object' && !Array.isArray(value);
  const guarded =
    pii && record && pii.mayHoldPii(raw)
      ? pii.guard(value as Record<string, unknown>, quarantineModes)
      : undefined;
  if (!pii || !guarded || guarded.findings.length === 0) {
    datasourceRow(ds, out, raw, value);
    return;
  }
  const text = JSON.stringify(guarded.value);
  if (pii.policy === 'quarantine') {
    const { columns, errors } = pii.reasons(guarded.findings);
    out.quarantine.push(quarantine(ds, text, guarded.value, columns, errors));
    return;
  }
  const stored = out.events.length;
  datasourceRow(ds, out, text, guarded.value);
  if (out.events.length > stored) out.redacted++;
}

/** Rows of `ds`, and how many of them the PII guard changed (counted in the reply). */
export interface GuardedRows extends IngestRows {
  redacted: number;
}

/** An Events API body (NDJSON, one JSON document, or an array of objects) to rows of `ds`. */
export function parseDatasourceBody(ds: DatasourceFile, body: Buffer, pii?: PiiGuard): GuardedRows {
  const out: GuardedRows = { events: [], quarantine: [], redacted: 0 };
  const text = body.toString('utf8');
  const add = (raw: string) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      out.quarantine.push(quarantine(ds, raw, undefined, [], [`not valid JSON: ${(err as Error).message}`]));
      return;
    }
    if (Array.isArray(value)) for (const item of value) guardedRow(ds, out, JSON.stringify(item), item, pii);
    else guardedRow(ds, out, raw, value, pii);
  };
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const whole = text.trim();
  // A pretty-printed document spans lines; NDJSON has one complete value per line.
  if (lines.length > 1 && !isJson(lines[0] as string) && isJson(whole)) add(whole);
  else for (const l of lines) add(l);
  // Rows refused for their type or shape keep no personal data either.
  if (pii) out.quarantine = out.quarantine.map((line) => scrubQuarantineLine(pii, line));
  return out;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
