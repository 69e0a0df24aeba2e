import { describe, expect, it } from 'vitest';
import { BackpressureError, type EventSink, type IngestRows } from '../queue/types.js';
import { appendInSlices, PartialAppend } from './append-slices.js';

const line = (i: number) =>
  JSON.stringify({
    event_id: `e${i}`,
    user_id: 'u',
    feature_id: 'f',
    product_version: '1',
    event_type: 'click',
    timestamp: '2026-11-30 10:00:00',
  });
const body = (n: number, bad = 0) =>
  Buffer.from(
    [...Array.from({ length: n }, (_, i) => line(i)), ...Array.from({ length: bad }, () => 'not json')].join(
      '\n',
    ),
  );

/** A sink that keeps what it is given, and fails the append numbered `failAt` (0-based). */
function sink(failAt = -1, ticks?: { n: number }) {
  const got: IngestRows[] = [];
  const seenTicks: number[] = [];
  const s: EventSink = {
    async append(rows) {
      if (ticks) seenTicks.push(ticks.n);
      if (got.length === failAt) throw new BackpressureError('the spool is full', 2);
      got.push(rows);
      return { committed: Promise.resolve() };
    },
    checkCapacity() {},
    async close() {},
  };
  return { s, got, seenTicks };
}

describe('appendInSlices', () => {
  it('hands an NDJSON upload to the sink a slice at a time, every row once, in order', async () => {
    const { s, got } = sink();
    const bytes = body(500, 3);
    const out = await appendInSlices(s, bytes, undefined, () => {}, 4096);
    if (out instanceof PartialAppend) throw out.cause;
    expect(got.length).toBeGreaterThan(5);
    expect(got.flatMap((r) => r.events).map((e) => JSON.parse(e).event_id)).toEqual(
      Array.from({ length: 500 }, (_, i) => `e${i}`),
    );
    expect(out.rows).toMatchObject({ events: 500, quarantine: 3, lines: 503 });
  });

  it('lets other work run between slices (the event loop is not held for the whole file)', async () => {
    const ticks = { n: 0 };
    const timer = setInterval(() => ticks.n++, 0);
    const { s, seenTicks } = sink(-1, ticks);
    try {
      // Each slice is parsed synchronously; between two appends the loop must have turned.
      await appendInSlices(s, body(2000), undefined, () => {}, 8192);
    } finally {
      clearInterval(timer);
    }
    expect(seenTicks.length).toBeGreaterThan(3);
    const turned = seenTicks.slice(1).filter((t, i) => t > (seenTicks[i] as number)).length;
    expect(turned).toBeGreaterThan(0);
  });

  it('a failure after some slices were taken says how far it got; before any, it throws', async () => {
    const { s, got } = sink(2);
    const out = await appendInSlices(s, body(400), undefined, () => {}, 4096);
    expect(out).toBeInstanceOf(PartialAppend);
    const partial = out as PartialAppend;
    const taken = got.reduce((n, r) => n + r.events.length, 0);
    expect(partial.rows.events).toBe(taken);
    expect(partial.rows.lines).toBe(taken);
    expect(partial.cause).toBeInstanceOf(BackpressureError);
    await expect(appendInSlices(sink(0).s, body(400), undefined, () => {}, 4096)).rejects.toBeInstanceOf(
      BackpressureError,
    );
  });

  it('a JSON document spread over lines is parsed whole, as the Events API does', async () => {
    const { s, got } = sink();
    const doc = Buffer.from(`[\n${line(1)},\n${line(2)}\n]`);
    const out = await appendInSlices(s, doc, undefined, () => {}, 16);
    expect(got).toHaveLength(1);
    expect(out).toMatchObject({ rows: { events: 2, quarantine: 0 } });
  });
});
