import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { gzipOnce } from './gzip-once.js';

/** An app whose one route answers what gzipOnce did with (answer, body, type) for that request. */
function probe(answer: object, body: string | Uint8Array, type = 'application/json') {
  const gzipped = gzipOnce();
  const seen: Array<Promise<Uint8Array> | undefined> = [];
  const app = new Hono();
  app.get('/', async (c) => {
    const gz = gzipped(c, answer, body, type);
    seen.push(gz);
    return c.json({ gz: gz ? Buffer.from(await gz).toString('base64') : null });
  });
  const ask = async (acceptEncoding?: string) => {
    const res = await app.request('/', {
      headers: acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding },
    });
    const { gz } = (await res.json()) as { gz: string | null };
    return gz === null ? undefined : gunzipSync(Buffer.from(gz, 'base64'));
  };
  return { ask, seen };
}

const big = JSON.stringify({
  data: Array.from({ length: 200 }, (_, i) => ({ i, feature: `feature_${i % 7}` })),
});

describe('gzipOnce', () => {
  it('compresses an answer once, however many requests send it', async () => {
    const { ask, seen } = probe({}, big);
    const [a, b] = [await ask('gzip, deflate'), await ask('gzip')];
    expect(a?.toString()).toBe(big);
    expect(b?.toString()).toBe(big);
    expect(seen[0]).toBeDefined();
    expect(seen[1]).toBe(seen[0]);
  });

  it('leaves the answer as it is when the client does not take gzip, it is small, or its type is not compressed', async () => {
    const { ask } = probe({}, big);
    for (const header of [undefined, '', 'identity', 'deflate', 'br', 'gzip;q=0', 'x-gzip;q=0'])
      expect(await ask(header), String(header)).toBeUndefined();
    expect(await probe({}, '{"data":[]}').ask('gzip')).toBeUndefined();
    expect(await probe({}, big, 'application/vnd.apache.parquet').ask('gzip')).toBeUndefined();
    expect((await probe({}, big, 'text/csv; charset=utf-8').ask('gzip'))?.toString()).toBe(big);
  });

  it('gives back exactly the bytes it was handed, for any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1024, maxLength: 4096, unit: 'grapheme' }), async (text) => {
        expect((await probe({}, text).ask('gzip'))?.toString()).toBe(text);
        const bytes = new TextEncoder().encode(text);
        expect(Buffer.compare((await probe({}, bytes).ask('gzip')) as Buffer, Buffer.from(bytes))).toBe(0);
      }),
      { numRuns: 30 },
    );
  });
});
