/**
 * Python strptime formats, as Tinybird's date_diff_* functions take them
 * (`date_format='%Y-%m-%dT%H:%M:%S.%fz'`). Only the directives dates are written with:
 * %Y %m %d %H %M %S %f %z %%; anything else in the format is a literal, matched without
 * regard to case as Python does (so a literal `z` matches the `Z` of ISO 8601).
 */
const DIRECTIVES: Record<string, string> = {
  Y: '(?<Y>\\d{4})',
  m: '(?<m>\\d{1,2})',
  d: '(?<d>\\d{1,2})',
  H: '(?<H>\\d{1,2})',
  M: '(?<M>\\d{1,2})',
  S: '(?<S>\\d{1,2})',
  f: '(?<f>\\d{1,6})',
  z: '(?<z>Z|[+-]\\d{2}:?\\d{2})',
  '%': '%',
};

export class DateFormatError extends Error {
  override name = 'DateFormatError';
}

const compiled = new Map<string, RegExp>();

function compile(format: string): RegExp {
  let re = compiled.get(format);
  if (re) return re;
  let src = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] as string;
    if (ch !== '%') {
      src += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const d = format[++i];
    const part = d === undefined ? undefined : DIRECTIVES[d];
    if (!part) throw new DateFormatError(`unsupported directive %${d ?? ''} in date format "${format}"`);
    src += part;
  }
  re = new RegExp(`^${src}$`, 'i');
  compiled.set(format, re);
  return re;
}

/** Milliseconds since the epoch (UTC) of `text` read with `format`; undefined when it does not match or is no real date. */
export function parseWithFormat(text: string, format: string): number | undefined {
  const g = compile(format).exec(text)?.groups;
  if (!g) return undefined;
  const n = (k: string, dflt: number) => (g[k] === undefined ? dflt : Number(g[k]));
  const [y, mo, d, h, mi, s] = [n('Y', 1900), n('m', 1), n('d', 1), n('H', 0), n('M', 0), n('S', 0)];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 61) return undefined;
  const ms = g.f === undefined ? 0 : Math.floor(Number(g.f.padEnd(6, '0')) / 1000);
  let t = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms);
  // Date.UTC rolls 2022-02-30 over into March: Python refuses such a day.
  if (new Date(t).getUTCDate() !== d) return undefined;
  if (g.z && g.z.toUpperCase() !== 'Z') {
    const sign = g.z.startsWith('-') ? -1 : 1;
    const digits = g.z.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return t;
}
