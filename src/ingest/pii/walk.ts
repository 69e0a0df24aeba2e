import { depthOver } from '../json-scan.js';
import { redacted, redactText } from './detect.js';
import { isCardNumber } from './luhn.js';

/** Where personal data was found (`metadata.contact.email`, `tags[2]`) and what it was. */
export interface Finding {
  path: string;
  /** A value kind (email, ip, card, phone), or the deny-listed key's normalised name. */
  kind: string;
  byKey: boolean;
}

// The depth rows are held to (src/ingest/rows.ts): JSON inside a string is walked only as
// deep as that, deeper text is scanned as text.
const MAX_DEPTH = 64;

const childPath = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/**
 * Walks a parsed JSON value and returns it with personal data replaced (the same reference
 * when nothing was found, so callers can tell cheaply). Keys on the deny list lose their
 * value whatever it is; strings are scanned for e-mail, IP, card and phone numbers; a
 * string that holds a JSON object or array (metadata sent as a JSON string) is walked as
 * JSON and written back compactly when something in it changed; integers of 13–19 digits
 * are checked as card numbers.
 */
export function redactValue(
  value: unknown,
  path: string,
  denyKeys: ReadonlySet<string>,
  normalize: (key: string) => string,
  findings: Finding[],
): unknown {
  if (typeof value === 'string') return redactString(value, path, denyKeys, normalize, findings);
  if (typeof value === 'number') {
    const text = String(value);
    if (!/^\d{13,19}$/.test(text) || !isCardNumber(text)) return value;
    findings.push({ path, kind: 'card', byKey: false });
    return redacted('card');
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const next = redactValue(value[i], `${path}[${i}]`, denyKeys, normalize, findings);
      if (next !== value[i]) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  let changed = false;
  for (const entry of entries) {
    const [key, v] = entry;
    const at = childPath(path, key);
    const normalized = normalize(key);
    if (denyKeys.has(normalized)) {
      // An empty value says nothing about anyone: kept, so "name": null stays queryable as such.
      if (v === null || v === '') continue;
      findings.push({ path: at, kind: normalized, byKey: true });
      entry[1] = redacted(normalized);
    } else entry[1] = redactValue(v, at, denyKeys, normalize, findings);
    // A key can be personal data too ({"visits": {"bob@example.com": 3}}).
    const renamed = redactText(key);
    for (const kind of renamed.kinds) findings.push({ path: at, kind, byKey: false });
    entry[0] = renamed.text;
    changed ||= entry[1] !== v || entry[0] !== key;
  }
  return changed ? Object.fromEntries(entries) : value;
}

function redactString(
  text: string,
  path: string,
  denyKeys: ReadonlySet<string>,
  normalize: (key: string) => string,
  findings: Finding[],
): string {
  const first = text.trimStart().charCodeAt(0);
  if ((first === 123 || first === 91) && depthOver(text, MAX_DEPTH) === undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined; // not JSON after all: scanned as text below
    }
    if (parsed !== null && typeof parsed === 'object') {
      const next = redactValue(parsed, path, denyKeys, normalize, findings);
      return next === parsed ? text : JSON.stringify(next);
    }
  }
  const { text: out, kinds } = redactText(text);
  for (const kind of kinds) findings.push({ path, kind, byKey: false });
  return out;
}
