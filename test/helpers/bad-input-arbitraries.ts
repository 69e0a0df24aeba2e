import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

/**
 * Generated Events API requests whose expected outcome is known by construction: every row
 * is built either valid (the server must store it) or bad for a stated reason (the server
 * must quarantine it). Valid rows carry the placeholder event_id ID, replaced per request
 * so that every execution (fast-check replays bodies while shrinking) has fresh ids.
 */
export const ID = '__EVENT_ID__';

export interface GenRow {
  /** What makes it bad, or 'valid'. */
  kind: string;
  valid: boolean;
  /** The row's text (one line, no line break), or its bytes when not valid UTF-8. */
  text: string | number[];
  /** The text is one JSON value (it may be framed as an array item or pretty-printed). */
  json: boolean;
}

const REQUIRED = ['event_id', 'user_id', 'feature_id', 'product_version', 'event_type', 'timestamp'] as const;
const STRING_FIELDS = ['user_id', 'feature_id', 'product_version', 'event_type', 'session_id'] as const;

// Any Unicode text but lone surrogates (those are a bad-row kind of their own).
const text = (maxLength: number, minLength = 0) => fc.string({ unit: 'grapheme', minLength, maxLength });
const idValue = fc.oneof(
  { weight: 4, arbitrary: text(40, 1) },
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant('x'.repeat(512)),
);

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
const MIN_TS = Date.UTC(1970, 0, 1);
const MAX_TS = 4294967295 * 1000; // DateTime's last second, 2106-02-07 06:28:15
const validTimestamp = fc
  .tuple(
    fc.integer({ min: MIN_TS / 1000, max: MAX_TS / 1000 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: -720, max: 840 }),
  )
  .map(([seconds, form, offsetMin]) => {
    const d = new Date(seconds * 1000);
    const iso = d.toISOString();
    if (form === 0) return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
    if (form === 1) return iso;
    if (form === 2) return `${iso.slice(0, 19)}.123456Z`;
    const local = new Date(seconds * 1000 + offsetMin * 60_000).toISOString().slice(0, 19);
    return `${local}${offsetMin < 0 ? '-' : '+'}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
  });

const nested = (depth: number, leaf: string) => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
// metadata values that are valid: absent, null, any string (however it nests inside), small
// objects and arrays, objects nested up to the limit (the row is level 1).
const validMetadata = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  text(200),
  fc.integer({ min: 1, max: 10_000 }).map((n) => nested(n, '1')), // as a string: ≤ 64 KiB
  fc.dictionary(text(10), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.integer({ min: 1, max: 63 }).map((n) => ({ raw: nested(n, '1') })),
);

interface RowFields {
  fields: Record<string, unknown>;
  /** JSON text spliced in as metadata's value (nesting JSON.stringify cannot build). */
  rawMetadata?: string;
}

const validFields: fc.Arbitrary<RowFields> = fc
  .record({
    user_id: idValue,
    feature_id: idValue,
    product_version: idValue,
    event_type: idValue,
    timestamp: validTimestamp,
    session_id: fc.option(idValue, { nil: undefined }),
    metadata: validMetadata,
    extra: fc.option(fc.dictionary(text(8), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), {
      nil: undefined,
    }),
  })
  .map(({ metadata, extra, ...r }) => {
    const fields: Record<string, unknown> = { event_id: ID, ...(extra ?? {}), ...r };
    if (metadata !== undefined && typeof metadata === 'object' && metadata !== null && 'raw' in metadata) {
      return { fields, rawMetadata: (metadata as { raw: string }).raw };
    }
    if (metadata !== undefined) fields.metadata = metadata;
    return { fields };
  });

function render({ fields, rawMetadata }: RowFields): string {
  const line = JSON.stringify(fields);
  return rawMetadata === undefined ? line : `${line.slice(0, -1)},"metadata":${rawMetadata}}`;
}

const row =
  (kind: string, valid: boolean, json = true) =>
  (t: string) => ({ kind, valid, text: t, json });

const validRow: fc.Arbitrary<GenRow> = validFields.map((f) => row('valid', true)(render(f)));

const WRONG = [true, false, null, [], {}, [1], { a: 1 }, ''];
const badRow: fc.Arbitrary<GenRow> = fc.oneof(
  fc.tuple(validFields, fc.constantFrom(...REQUIRED)).map(([f, key]) => {
    const fields = { ...f.fields };
    delete fields[key];
    return row(`missing ${key}`, false)(render({ ...f, fields }));
  }),
  fc
    .tuple(validFields, fc.constantFrom(...REQUIRED), fc.constantFrom(...WRONG))
    .map(([f, key, v]) =>
      row(`wrong type ${key}`, false)(render({ ...f, fields: { ...f.fields, [key]: v } })),
    ),
  fc
    .tuple(validFields, fc.constantFrom('event_id', ...STRING_FIELDS), fc.integer({ min: 513, max: 3000 }))
    .map(([f, key, n]) =>
      row(`too long ${key}`, false)(render({ ...f, fields: { ...f.fields, [key]: 'x'.repeat(n) } })),
    ),
  fc
    .tuple(
      validFields,
      fc.oneof(
        text(30).map((s) => `x${s}`),
        fc.constantFrom(
          '2023-02-30 00:00:00',
          '1969-12-31 23:59:59',
          '2106-02-07 06:28:16',
          '2023-10-15 24:00:00',
          1697380522,
        ),
      ),
    )
    .map(([f, ts]) => row('bad timestamp', false)(render({ ...f, fields: { ...f.fields, timestamp: ts } }))),
  fc
    .tuple(
      validFields,
      fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.integer({ min: 65_537, max: 70_000 }).map((n) => 'm'.repeat(n)),
      ),
    )
    .map(([f, m]) =>
      row(
        'bad metadata',
        false,
      )(render({ ...f, rawMetadata: undefined, fields: { ...f.fields, metadata: m } })),
    ),
  fc
    .tuple(
      validFields,
      fc.constantFrom('event_id', 'user_id', 'metadata', 'session_id'),
      fc.constantFrom('\\ud800', '\\udfff', 'a\\udbff'),
    )
    .map(([f, key, esc]) => {
      const fields = { ...f.fields, [key]: 'SURROGATE' };
      return row(
        `lone surrogate in ${key}`,
        false,
      )(render({ ...f, rawMetadata: undefined, fields }).replace('SURROGATE', esc));
    }),
  // The issue's row: metadata an object nested past the limit (64 levels counting the row).
  fc
    .tuple(validFields, fc.integer({ min: 64, max: 6000 }))
    .map(([f, n]) => row('nested too deep', false)(render({ ...f, rawMetadata: nested(n, '1') }))),
  fc
    .tuple(validFields, fc.integer({ min: 64, max: 3000 }))
    .map(([f, n]) =>
      row(
        'nested too deep (unknown field)',
        false,
      )(
        render({ fields: { ...f.fields, deep: 'DEEP' } }).replace(
          '"DEEP"',
          `${'['.repeat(n)}${']'.repeat(n)}`,
        ),
      ),
    ),
  fc
    .oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      text(20),
      fc.boolean(),
      fc.constant(null),
    )
    .map((v) => row('not an object', false)(JSON.stringify(v))),
  fc
    .constantFrom('1e999', '-1e999', '123456789e999999')
    .map((n) =>
      row(
        'number out of range',
        false,
      )(
        `{"event_id":${n},"user_id":"u","feature_id":"f","product_version":"1","event_type":"x","timestamp":"2023-10-15 14:35:22"}`,
      ),
    ),
  fc.tuple(validFields, fc.nat()).map(([f, cut]) => {
    const t = render(f);
    return row('truncated JSON', false, false)(t.slice(0, 1 + (cut % (t.length - 1))));
  }),
  // '#' can start no JSON value, so the line cannot join its neighbours into one document.
  text(60).map((s) => row('garbage', false, false)(`#${s.replace(/[\r\n]/g, ' ')}`)),
  fc
    .tuple(validFields, fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x28, 0x8c]))
    .map(([f, bytes]) => {
      const t = Buffer.from(render({ ...f, fields: { ...f.fields, user_id: 'BYTES' } }));
      const at = t.indexOf('BYTES');
      return {
        kind: 'invalid UTF-8',
        valid: false,
        json: false,
        text: [...t.subarray(0, at), ...bytes, ...t.subarray(at + 5)],
      };
    }),
);

export interface GenRequest {
  rows: GenRow[];
  framing: 'ndjson' | 'array' | 'pretty';
  newline: '\n' | '\r\n';
  blankLines: boolean;
  trailingNewline: boolean;
  bom: boolean;
  gzip: 'no' | 'header' | 'sniffed';
  contentType?: string;
  tokenIn: 'header' | 'query';
}

export const eventsRequest: fc.Arbitrary<GenRequest> = fc
  .record({
    rows: fc.array(fc.oneof(validRow, badRow), { minLength: 1, maxLength: 6 }),
    framing: fc.constantFrom<GenRequest['framing']>('ndjson', 'ndjson', 'array', 'pretty'),
    newline: fc.constantFrom<GenRequest['newline']>('\n', '\r\n'),
    blankLines: fc.boolean(),
    trailingNewline: fc.boolean(),
    bom: fc.boolean(),
    gzip: fc.constantFrom<GenRequest['gzip']>('no', 'header', 'sniffed'),
    contentType: fc.option(
      fc.constantFrom(
        'application/json',
        'application/x-ndjson',
        'text/plain',
        'application/x-www-form-urlencoded',
        'image/png',
        'multipart/form-data; boundary=x',
      ),
      { nil: undefined },
    ),
    tokenIn: fc.constantFrom<GenRequest['tokenIn']>('header', 'query'),
  })
  .map((r) => {
    // Array framing needs every row to be one JSON value; pretty-printing takes one row.
    if (r.framing === 'array' && !r.rows.every((x) => x.json)) return { ...r, framing: 'ndjson' as const };
    if (r.framing === 'pretty') {
      const first = r.rows[0]!;
      if (
        !first.json ||
        typeof first.text !== 'string' ||
        !first.text.startsWith('{') ||
        first.text.length > 200_000
      )
        return { ...r, framing: 'ndjson' as const };
      return { ...r, rows: [first] };
    }
    return r;
  });

const bytesOf = (t: string | number[], id: string) =>
  typeof t === 'string'
    ? Buffer.from(t.replaceAll(ID, id))
    : Buffer.from(Buffer.from(t).toString('latin1').replaceAll(ID, id), 'latin1');

/** The request's body, headers and query; `idPrefix` makes the valid rows' event_ids. */
export function buildRequest(r: GenRequest, idPrefix: string, token: string) {
  const ids: string[] = [];
  const rows = r.rows.map((row, i) => {
    const id = `${idPrefix}_${i}`;
    if (row.valid) ids.push(id);
    return bytesOf(row.text, id);
  });
  let body: Buffer;
  if (r.framing === 'array')
    body = Buffer.concat([
      Buffer.from('['),
      ...rows.flatMap((b, i) => (i ? [Buffer.from(', '), b] : [b])),
      Buffer.from(']'),
    ]);
  else if (r.framing === 'pretty') {
    // Indent a one-row document line by line: a pretty-printer over the text, no parsing.
    body = Buffer.from(prettyPrint(rows[0]!.toString()).split('\n').join(r.newline));
  } else {
    const sep = Buffer.from(r.blankLines ? `${r.newline}${r.newline}` : r.newline);
    body = Buffer.concat(rows.flatMap((b, i) => (i ? [sep, b] : [b])));
  }
  if (r.trailingNewline) body = Buffer.concat([body, Buffer.from(r.newline)]);
  if (r.bom) body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
  const headers: Record<string, string> = {};
  if (r.contentType) headers['Content-Type'] = r.contentType;
  if (r.tokenIn === 'header') headers.Authorization = `Bearer ${token}`;
  if (r.gzip !== 'no') body = gzipSync(body);
  if (r.gzip === 'header') headers['Content-Encoding'] = 'gzip';
  const query = `name=feature_events&wait=true${r.tokenIn === 'query' ? `&token=${encodeURIComponent(token)}` : ''}`;
  return {
    body,
    headers,
    query,
    validIds: ids,
    bad: r.rows.filter((x) => !x.valid).length,
  };
}

/** Breaks a JSON text after each top-level comma and opening brace, as a person would. */
function prettyPrint(json: string): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += json[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    if ((c === ',' && depth === 1) || (c === '{' && depth === 1)) out += '\n  ';
  }
  return out;
}

/** Hostile and odd values for pipe parameters. */
export const paramValue = fc.oneof(
  text(30),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    "' OR 1=1 --",
    '1; DROP TABLE feature_events',
    '-1',
    '0',
    '1e308',
    '99999999999999999999999',
    'NaN',
    '2023-02-30 25:61:61',
    '2023-10-15',
    '2023-10-15 14:35:22',
    '0000-00-00 00:00:00',
    '9999-12-31 23:59:59',
    '7 day',
    '100000 year',
    '-3 day',
    '1 nanosecond',
    'hour',
    'week',
    '{{ error("x") }}',
    '{% for x in range(10000000) %}{% end %}',
    '\u0000',
    'x'.repeat(5000),
  ),
);
