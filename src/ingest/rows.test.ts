import { describe, expect, it } from 'vitest';
import { fastEventLine, isCanonicalEventLine } from './fast-row.js';
import { featureEventSchema } from './row-schema.js';
import { MAX_JSON_DEPTH, MAX_ROW_CHARS, parseEventsBody } from './rows.js';

const valid = {
  event_id: 'e1',
  user_id: 'u1',
  feature_id: 'f1',
  product_version: '1.0',
  event_type: 'feature_used',
  timestamp: '2023-10-15 14:35:22',
  session_id: 's1',
  metadata: '{"a":1}',
};
const body = (text: string) => parseEventsBody(Buffer.from(text));

describe('parseEventsBody', () => {
  it('serialises a valid row with every column, metadata kept as its string', () => {
    const out = body(JSON.stringify(valid));
    expect(out.quarantine).toEqual([]);
    expect(JSON.parse(out.events[0] as string)).toEqual(valid);
  });

  it('fills optional session_id and metadata, and stringifies a metadata object and numeric ids', () => {
    const out = body(
      JSON.stringify({ ...valid, user_id: 42, session_id: undefined, metadata: { x: [1, 2] } }),
    );
    expect(JSON.parse(out.events[0] as string)).toMatchObject({
      user_id: '42',
      session_id: '',
      metadata: '{"x":[1,2]}',
    });
  });

  it('quarantines each bad line with the column and reason, keeping the good ones', () => {
    const out = body(
      [
        JSON.stringify(valid),
        '{"broken":',
        JSON.stringify({ ...valid, feature_id: '' }),
        JSON.stringify({ ...valid, event_id: 'x'.repeat(600) }),
        '"just a string"',
      ].join('\n'),
    );
    expect(out.events).toHaveLength(1);
    const q = out.quarantine.map((l) => JSON.parse(l));
    expect(q).toHaveLength(4);
    expect(q[0].c__error[0]).toMatch(/not valid JSON/);
    expect(q[1]).toMatchObject({ c__error_column: ['feature_id'], c__error: ['feature_id: empty'] });
    expect(q[2].c__error[0]).toMatch(/event_id: longer than 512/);
    expect(q[3].c__error[0]).toMatch(/JSON object/);
  });

  it('reads a pretty-printed object and a JSON array', () => {
    expect(body(JSON.stringify(valid, null, 2)).events).toHaveLength(1);
    expect(body(JSON.stringify([valid, valid])).events).toHaveLength(2);
  });

  it('quarantines a line that is not UTF-8 instead of failing the request', () => {
    const bad = Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const out = parseEventsBody(Buffer.concat([bad, Buffer.from(JSON.stringify(valid))]));
    expect(out.events).toHaveLength(1);
    expect(JSON.parse(out.quarantine[0] as string).c__error).toEqual(['not valid UTF-8']);
  });

  it('quarantines a lone UTF-16 surrogate (ClickHouse refuses it) and keeps the quarantine row storable', () => {
    const out = body(
      `${JSON.stringify({ ...valid, user_id: 'a\ud800' })}\n${JSON.stringify({ ...valid, event_id: 'ok\\ud800' })}`,
    );
    expect(out.events).toHaveLength(1); // a literal backslash-u text is fine
    expect(out.quarantine).toHaveLength(1);
    expect(JSON.parse(out.quarantine[0] as string).user_id).toBe('a\ufffd');
    expect(JSON.parse(out.quarantine[0] as string).c__error[0]).toMatch(/lone UTF-16 surrogate/);
  });
});

describe('parseEventsBody: bounded work per row', () => {
  // The case: metadata an object nested 5,000 deep overflowed the stack and the
  // whole request failed. It is that row's problem only.
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  const deepRow = (n: number) =>
    JSON.stringify({ ...valid, event_id: 'deep' }).replace('"{\\"a\\":1}"', deep(n));

  it('quarantines a row nested 5,000 deep with the reason and keeps the others', () => {
    expect(deepRow(2)).toContain('"metadata":{"a":{"a":1}}');
    const out = body(
      [JSON.stringify(valid), deepRow(5000), JSON.stringify({ ...valid, event_id: 'e2' })].join('\n'),
    );
    expect(out.events.map((l) => JSON.parse(l).event_id)).toEqual(['e1', 'e2']);
    expect(out.quarantine).toHaveLength(1);
    expect(JSON.parse(out.quarantine[0] as string).c__error).toEqual([
      `nested deeper than ${MAX_JSON_DEPTH} levels (5001)`,
    ]);
  });

  it('quarantines the deep row alone in every framing: first line, array item, pretty document', () => {
    expect(body(`${deepRow(5000)}\n${JSON.stringify(valid)}`).events).toHaveLength(1);
    const arr = body(`[${JSON.stringify(valid)},${deepRow(100_000)}]`);
    expect([arr.events.length, arr.quarantine.length]).toEqual([1, 1]);
    const prettyArr = body(`[\n${JSON.stringify(valid)},\n${deepRow(5000)}\n]`);
    expect([prettyArr.events.length, prettyArr.quarantine.length]).toEqual([1, 1]);
    const prettyText = JSON.stringify({ ...valid, metadata: { x: 1 } }, null, 2);
    expect(prettyText).toContain('{\n    "x": 1\n  }');
    const pretty = body(prettyText.replace('{\n    "x": 1\n  }', `{\n    "d": ${deep(3000)}\n  }`));
    expect([pretty.events.length, pretty.quarantine.length]).toEqual([0, 1]);
  });

  it('accepts the depth limit itself, and any nesting inside a JSON string', () => {
    expect(body(deepRow(MAX_JSON_DEPTH - 1)).events).toHaveLength(1);
    expect(body(deepRow(MAX_JSON_DEPTH)).quarantine).toHaveLength(1);
    const inString = JSON.stringify({ ...valid, metadata: deep(5000) });
    expect(body(inString).events).toHaveLength(1);
  });

  it('quarantines a row over MAX_ROW_CHARS unparsed', () => {
    const huge = JSON.stringify({ ...valid, pad: ' '.repeat(MAX_ROW_CHARS) });
    const out = body(`${JSON.stringify(valid)}\n${huge}`);
    expect(out.events).toHaveLength(1);
    expect(JSON.parse(out.quarantine[0] as string).c__error[0]).toMatch(/longer than/);
  });
});

describe('fastEventLine', () => {
  // The hot path must answer only for rows zod accepts, with zod's exact output.
  const variants: unknown[] = [];
  const values: Record<string, unknown[]> = {
    event_id: ['e1', 42, 1.5, -0, 1e21, '', 'x'.repeat(512), 'x'.repeat(513), null, true, {}, 'é\u2028"\\'],
    user_id: ['u1', 7, '', null],
    feature_id: ['f', 3],
    product_version: ['1.0', 2],
    event_type: ['used', ''],
    timestamp: [
      '2023-10-15 14:35:22',
      '2023-10-15T14:35:22Z',
      '2023-10-15T16:35:22.5+02:00',
      '2023-02-30 00:00:00',
      '1969-12-31 23:59:59',
      'nope',
      1697380522,
      null,
    ],
    session_id: [undefined, '', 's1', 12, null, 'y'.repeat(513), false],
    metadata: [undefined, null, '', '{"a":1}', { a: [1] }, [1, 2], 'm'.repeat(65_537), 5, true],
    account_id: [undefined, 'acc_1', '', 9, null, 'z'.repeat(513), {}],
  };
  const base = {
    event_id: 'e1',
    user_id: 'u1',
    feature_id: 'f',
    product_version: '1.0',
    event_type: 'used',
    timestamp: '2023-10-15 14:35:22',
    session_id: 's1',
    metadata: '{}',
  };
  for (const [key, vs] of Object.entries(values)) {
    for (const v of vs) {
      const row: Record<string, unknown> = { ...base, extra: 1 };
      if (v === undefined) delete row[key];
      else row[key] = v;
      variants.push(row);
    }
  }
  variants.push({ ...base, ...{ event_id: undefined } }, { metadata: 'x' });

  it('agrees with featureEventSchema on every variant it answers for', () => {
    let answered = 0;
    for (const v of variants) {
      const fast = fastEventLine(v as Record<string, unknown>);
      const zod = featureEventSchema.safeParse(v);
      if (fast === undefined) {
        // Falls back to zod: fine either way, but a plain valid row must take the fast path.
        continue;
      }
      answered++;
      expect(zod.success, JSON.stringify(v)).toBe(true);
      expect(fast).toBe(JSON.stringify(zod.data));
    }
    expect(answered).toBeGreaterThan(variants.length / 2);
    expect(fastEventLine(base)).toBe(JSON.stringify(featureEventSchema.parse(base)));
  });

  it('gives the same rows as the zod path for a mixed body', () => {
    const lines = variants.map((v) => JSON.stringify(v));
    const out = parseEventsBody(Buffer.from(lines.join('\n')));
    const viaZod = variants.filter((v) => featureEventSchema.safeParse(v).success);
    expect(out.events).toEqual(viaZod.map((v) => JSON.stringify(featureEventSchema.parse(v))));
    expect(out.events.length + out.quarantine.length).toBe(variants.length);
  });
});

describe('rows stored as sent', () => {
  const row = {
    event_id: 'e1',
    user_id: 'u1',
    feature_id: 'f',
    product_version: '1.0',
    event_type: 'used',
    timestamp: '2023-10-15 14:35:22',
    session_id: 's1',
    metadata: '{"a":1}',
  };
  const canonical = JSON.stringify(row);
  it('stores exactly what the schema would write, however the line was written', () => {
    const lines = [
      canonical,
      ` ${canonical}\r`,
      canonical.replace(',"user_id"', ', "user_id"'),
      canonical.replace('"e1"', '"\\u0065\\u0031"'),
      canonical.replace('"s1"', '"s\\/1"'),
      canonical.replace('"event_id":"e1","user_id":"u1"', '"user_id":"u1","event_id":"e1"'),
      canonical.replace('{', '{"event_id":"dup",'),
      `${canonical.slice(0, -1)},"extra":"x"}`,
      canonical.replace('"2023-10-15 14:35:22"', '"2023-10-15T14:35:22Z"'),
      canonical.replace('"e1"', '1'),
      canonical.replace(',"metadata":"{\\"a\\":1}"', ''),
      JSON.stringify({ ...row, metadata: 'é😀\u2028' }),
      JSON.stringify({ ...row, account_id: 'acc_1' }),
      JSON.stringify({ ...row, account_id: 42 }),
      JSON.stringify({ account_id: 'acc_2', ...row }),
    ];
    const out = parseEventsBody(Buffer.from(lines.join('\n')));
    expect(out.quarantine).toEqual([]);
    const expected = lines.map((l) => JSON.stringify(featureEventSchema.parse(JSON.parse(l))));
    expect(out.events).toEqual(expected);
  });
});

describe('isCanonicalEventLine', () => {
  const row = {
    event_id: 'e1',
    user_id: 'u1',
    feature_id: 'f',
    product_version: '1.0',
    event_type: 'used',
    timestamp: '2023-10-15 14:35:22',
    session_id: 's1',
    metadata: '{"a":1}',
  };
  const canonical = JSON.stringify({ ...row, metadata: 'plain' });
  it('accepts only lines that parse to a valid row whose canonical form is the line itself', () => {
    const cases = [
      canonical,
      JSON.stringify(row), // escaped quotes in metadata, as trackers send it
      JSON.stringify({ ...row, metadata: 'back\\slash "q"' }),
      canonical.replace('"plain"', '"pl\\/ain"'),
      canonical.replace('"plain"', '"pl\\u0061in"'),
      canonical.replace('"plain"', '"pl\\nain"'),
      canonical.replace('"plain"', '"pl\\"'),
      canonical.replace('"e1"', '"\\""'),
      JSON.stringify({ ...row, user_id: '"'.repeat(512) }),
      JSON.stringify({ ...row, user_id: '"'.repeat(513) }),
      JSON.stringify({ ...row, metadata: '', session_id: '' }),
      JSON.stringify({ ...row, event_id: '' }),
      JSON.stringify({ ...row, user_id: 'x'.repeat(512) }),
      JSON.stringify({ ...row, user_id: 'x'.repeat(513) }),
      JSON.stringify({ ...row, session_id: 'x'.repeat(513) }),
      JSON.stringify({ ...row, metadata: 'm'.repeat(65_536) }),
      JSON.stringify({ ...row, metadata: 'm'.repeat(65_537) }),
      JSON.stringify({ ...row, timestamp: '2023-02-29 00:00:00' }),
      JSON.stringify({ ...row, timestamp: '2024-02-29 00:00:00' }),
      JSON.stringify({ ...row, timestamp: '2023-10-15T14:35:22Z' }),
      JSON.stringify({ ...row, timestamp: '2106-02-07 06:28:15' }),
      JSON.stringify({ ...row, timestamp: '2106-02-07 06:28:16' }),
      JSON.stringify({ ...row, metadata: 'tab\there' }),
      `${canonical.slice(0, -1)}\t}`,
      `${canonical} `,
      `${canonical}}`,
      canonical.replace('"f"', '"f"x'),
      canonical.replace('"s1"', '"s"1"'),
      canonical.slice(0, -2),
      JSON.stringify({ ...row, metadata: 'é😀\u2028' }),
      JSON.stringify({ ...row, account_id: 'acc_1' }),
      JSON.stringify({ ...row, account_id: '' }),
      JSON.stringify({ ...row, account_id: 'a"\\' }),
      JSON.stringify({ ...row, account_id: 'x'.repeat(513) }),
      JSON.stringify({ account_id: 'acc_1', ...row }),
      `${canonical.slice(0, -1)},"account_id":"a",}`,
      `${canonical.slice(0, -1)},"account_id":"a","x":"y"}`,
      `${canonical.slice(0, -1)},"account_id":1}`,
    ];
    let accepted = 0;
    for (const line of cases) {
      const fast = isCanonicalEventLine(line);
      let expected = false;
      try {
        const parsed = featureEventSchema.safeParse(JSON.parse(line));
        expected = parsed.success && JSON.stringify(parsed.data) === line;
      } catch {
        expected = false;
      }
      if (fast) accepted++;
      // true only for a line the general path would store unchanged; false may just mean
      // "not decided here" (a rarer escape such as \n), never for the usual form.
      if (fast) expect(expected, line).toBe(true);
      if (expected && !/\\[^"\\]/.test(line)) expect(fast, line).toBe(true);
    }
    expect(accepted).toBeGreaterThan(5);
  });
});
