import { describe, expect, it } from 'vitest';
import { parseEventsBody } from './rows.js';

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
