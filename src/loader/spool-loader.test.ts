import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../clickhouse/store.js';
import { BackpressureError } from '../queue/types.js';
import { BatchWriter } from './batch-writer.js';
import { SpoolLoader } from './spool-loader.js';

interface Insert {
  table: string;
  token: string;
  lines: string[];
}

/**
 * A stand-in for ClickHouse that records inserts, and when each stored one started
 * (`startedAt`); `hang` makes them never finish.
 */
function fakeClient(opts: { hang?: () => boolean; fail?: () => boolean } = {}) {
  const inserts: Insert[] = [];
  const startedAt: number[] = [];
  const client: Store = {
    async insert(table, lines, token) {
      if (lines.length === 0) return;
      const at = performance.now();
      if (opts.hang?.()) return new Promise(() => {});
      if (opts.fail?.()) throw new Error('ClickHouse is down');
      inserts.push({ table, token, lines: [...lines] });
      startedAt.push(at);
    },
    query: async () => [],
  };
  return { client, inserts, startedAt };
}

const rows = (ids: string[]) => ({
  events: ids.map((id) => JSON.stringify({ event_id: id })),
  quarantine: [],
});
const pageViews = (ids: string[], quarantined: string[] = []) => ({
  events: ids.map((id) => JSON.stringify({ path: id })),
  quarantine: quarantined.map((raw) => JSON.stringify({ raw })),
  datasource: 'page_views',
});
const open = (dir: string, client: Store, extra: Partial<Parameters<typeof SpoolLoader.open>[0]> = {}) =>
  SpoolLoader.open({
    dir,
    writer: new BatchWriter(client, { dedupWindow: 0, datasources: ['page_views'] }),
    batchMaxRows: 1000,
    batchMaxWaitMs: 10,
    maxPendingBytes: 1 << 20,
    ...extra,
  });

describe('SpoolLoader', () => {
  it('inserts appended rows in one batch named by its spool byte range', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts } = fakeClient();
    // Due by rows, not by time: with a 10 ms wait a slow fsync of b1 let a1,a2 go alone.
    const sink = await open(dir, client, { batchMaxRows: 3, batchMaxWaitMs: 60_000 });
    const a = await sink.append(rows(['a1', 'a2']));
    const b = await sink.append(rows(['b1']));
    await Promise.all([a.committed, b.committed]);
    expect(inserts).toHaveLength(1);
    expect(inserts[0]?.token).toMatch(/^spool:1:0-\d+:e$/);
    expect(inserts[0]?.lines.map((l) => JSON.parse(l).event_id)).toEqual(['a1', 'a2', 'b1']);
    await sink.close();
  });

  it('lets rows that arrive during an insert wait for their own batch to be due', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts } = fakeClient();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: Store = {
      ...client,
      insert: async (table, lines, token) => {
        if (inserts.length === 0) await gate;
        return client.insert(table, lines, token);
      },
    };
    const sink = await open(dir, slow, { batchMaxWaitMs: 150 });
    const first = await sink.append(rows(['a1']));
    await new Promise((r) => setTimeout(r, 200)); // the first batch is due and in flight
    const second = await sink.append(rows(['b1']));
    const arrived = performance.now();
    release();
    await first.committed;
    const third = await sink.append(rows(['c1']));
    await Promise.all([second.committed, third.committed]);
    // b1 was not inserted on its own right after the first insert: it waited for its
    // batch to be due (150 ms after it arrived) and went out together with c1.
    expect(performance.now() - arrived).toBeGreaterThanOrEqual(140);
    expect(inserts.map((i) => i.lines.map((l) => JSON.parse(l).event_id))).toEqual([['a1'], ['b1', 'c1']]);
    await sink.close();
  });

  it('starts inserts BATCH_MIN_INTERVAL_MS apart unless the batch is full', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts, startedAt } = fakeClient();
    const sink = await open(dir, client, { batchMaxWaitMs: 20, batchMinIntervalMs: 1000, batchMaxRows: 5 });
    await (await sink.append(rows(['a1']))).committed;
    // The next row waits for the interval, not just its 20 ms...
    await (await sink.append(rows(['b1']))).committed;
    // ...but a full batch goes at once.
    await (await sink.append(rows(['c1', 'c2', 'c3', 'c4', 'c5']))).committed;
    const [a, b, c] = startedAt as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(990);
    expect(c - b).toBeLessThan(900);
    expect(inserts.map((i) => i.lines.length)).toEqual([1, 1, 5]);
    await sink.close();
  });

  it('does not hold back a batch whose caller waits for it (wait=true) for the interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts, startedAt } = fakeClient();
    const sink = await open(dir, client, { batchMaxWaitMs: 20, batchMinIntervalMs: 5_000 });
    for (const id of ['a1', 'b1', 'c1']) await (await sink.append(rows([id]), { waiting: true })).committed;
    // A row nobody waits for after them waits for the interval again.
    const fireAndForget = await sink.append(rows(['d1']));
    await new Promise((r) => setTimeout(r, 300));
    const [a, , c] = startedAt as [number, number, number];
    expect(c - a).toBeLessThan(4_000);
    expect(inserts.map((i) => i.lines.length)).toEqual([1, 1, 1]);
    await sink.close();
    await fireAndForget.committed; // close() inserts what is left
    expect(inserts).toHaveLength(4);
  });

  it('moves a batch held for the interval up when a wait=true row joins it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts } = fakeClient();
    const sink = await open(dir, client, { batchMaxWaitMs: 20, batchMinIntervalMs: 5_000 });
    await (await sink.append(rows(['a1']))).committed;
    const t0 = performance.now();
    const held = await sink.append(rows(['b1'])); // due 5 s after a1's insert
    await new Promise((r) => setTimeout(r, 50));
    await (await sink.append(rows(['c1']), { waiting: true })).committed;
    await held.committed;
    expect(performance.now() - t0).toBeLessThan(4_000);
    expect(inserts.map((i) => i.lines.map((l) => JSON.parse(l).event_id))).toEqual([['a1'], ['b1', 'c1']]);
    await sink.close();
  });

  it('re-inserts the batch that was in flight at a crash with the same token, then the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    let hang = true;
    const first = fakeClient({ hang: () => hang });
    const crashed = await open(dir, first.client);
    await crashed.append(rows(['x1', 'x2']));
    await new Promise((r) => setTimeout(r, 100)); // the insert of x1,x2 is now stuck "in flight"
    await crashed.append(rows(['y1']));
    hang = false;
    // The first process is gone without closing. A new one opens the same spool:
    const second = fakeClient();
    const restarted = await open(dir, second.client);
    await (await restarted.append(rows(['z1']))).committed;
    const tokens = second.inserts.map((i) => i.token);
    expect(tokens[0]).toMatch(/^spool:1:0-\d+:q$|^spool:1:0-\d+:e$/);
    expect(second.inserts[0]?.lines.map((l) => JSON.parse(l).event_id)).toEqual(['x1', 'x2']);
    const later = second.inserts.slice(1).flatMap((i) => i.lines.map((l) => JSON.parse(l).event_id));
    expect(later).toEqual(['y1', 'z1']);
    await restarted.close();
  });

  it('drops a torn record at the tail (never acknowledged) and keeps the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const hung = fakeClient({ hang: () => true });
    const sink = await open(dir, hung.client, { batchMaxWaitMs: 60_000 });
    await sink.append(rows(['ok1']));
    const segment = join(dir, readdirSync(dir).find((f) => f.endsWith('.spool')) as string);
    const before = statSync(segment).size;
    appendFileSync(segment, Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 0x7b])); // a header promising 64 bytes, then 1
    const next = fakeClient();
    const reopened = await open(dir, next.client);
    await (await reopened.append(rows(['ok2']))).committed;
    expect(next.inserts.flatMap((i) => i.lines.map((l) => JSON.parse(l).event_id))).toEqual(['ok1', 'ok2']);
    expect(statSync(segment).size).toBeGreaterThan(before);
    await reopened.close();
  });

  it('refuses more work with a BackpressureError while ClickHouse is failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    let failing = true;
    const { client, inserts } = fakeClient({ fail: () => failing });
    const sink = await open(dir, client, { maxPendingBytes: 2000 });
    const big = rows(Array.from({ length: 40 }, (_, i) => `bp_${i}`));
    const accepted = await sink.append(big);
    expect(() => sink.checkCapacity(1500)).toThrow(BackpressureError);
    failing = false;
    await accepted.committed;
    expect(() => sink.checkCapacity(1500)).not.toThrow();
    expect(inserts.flatMap((i) => i.lines)).toHaveLength(40);
    await sink.close();
  });

  it('rotates segments and deletes the ones fully inserted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client } = fakeClient();
    const sink = await open(dir, client, { segmentBytes: 200 });
    for (let i = 0; i < 10; i++)
      await (await sink.append(rows([`r${i}_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`]))).committed;
    await (await sink.append(rows(['last']))).committed;
    const segments = readdirSync(dir).filter((f) => f.endsWith('.spool'));
    expect(segments.length).toBeLessThanOrEqual(2);
    await sink.close();
  });

  it('inserts each datasource of a range into its own tables, under the range token plus its name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts } = fakeClient();
    const sink = await open(dir, client, { batchMaxWaitMs: 50 });
    const acks = await Promise.all([
      sink.append(pageViews(['/a'], ['bad'])),
      sink.append(rows(['f1'])),
      sink.append(pageViews(['/b'])),
      sink.append({ ...rows(['f2']), datasource: 'feature_events' }),
    ]);
    await Promise.all(acks.map((a) => a.committed));
    // One range (one intent), one insert per table: feature_events first, then page_views.
    const range = /^spool:1:0-\d+/.exec(inserts[0]?.token ?? '')?.[0];
    expect(inserts.map((i) => [i.table, i.token, i.lines])).toEqual([
      ['feature_events', `${range}:e`, [rows(['f1']).events[0], rows(['f2']).events[0]]],
      ['page_views_quarantine', `${range}:page_views:q`, ['{"raw":"bad"}']],
      ['page_views', `${range}:page_views:e`, ['{"path":"/a"}', '{"path":"/b"}']],
    ]);
    await sink.close();
  });

  it('replays a spool written before records carried a datasource into feature_events, with its old token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    // Records framed as the encoder wrote them then: [length][sha-256 prefix]["e" + row + "\n" ...].
    const frame = (lines: string[]) => {
      const payload = Buffer.from(lines.map((l) => `e${l}\n`).join(''));
      const head = Buffer.alloc(8);
      head.writeUInt32LE(payload.length, 0);
      createHash('sha256').update(payload).digest().copy(head, 4, 0, 4);
      return Buffer.concat([head, payload]);
    };
    const first = frame(rows(['old1', 'old2']).events);
    const second = frame(rows(['old3']).events);
    writeFileSync(join(dir, '000000000001.spool'), Buffer.concat([first, second]));
    // The first record was being inserted when the old process stopped, old2 skipped by the window.
    writeFileSync(
      join(dir, 'checkpoint.json'),
      JSON.stringify({
        segment: 1,
        offset: 0,
        inflight: { segment: 1, start: 0, end: first.length, skip: [1] },
      }),
    );
    const { client, inserts } = fakeClient();
    const sink = await open(dir, client);
    await (await sink.append(rows(['new1']))).committed;
    expect(inserts[0]).toEqual({
      table: 'feature_events',
      token: `spool:1:0-${first.length}:e`,
      lines: rows(['old1']).events,
    });
    expect(inserts.slice(1).every((i) => i.table === 'feature_events')).toBe(true);
    expect(inserts.slice(1).flatMap((i) => i.lines.map((l) => JSON.parse(l).event_id))).toEqual([
      'old3',
      'new1',
    ]);
    await sink.close();
  });

  it('keeps at most memoryBytes of waiting rows in memory and reads the rest back from the spool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts } = fakeClient();
    // Room for the first request's record only (27 bytes); no batch is due
    // before close(), which inserts what waits.
    const sink = await open(dir, client, { memoryBytes: 30, batchMaxWaitMs: 60_000 });
    const sent = [rows(['m1']), rows(['m2']), pageViews(['/m3'], ['bad']), rows(['m4'])];
    for (const r of sent) await sink.append(r);
    // Rows held in memory are the caller's objects; rows left in the spool are not: change
    // every one after it was acknowledged, and only the held one shows the change.
    for (const r of sent) r.events[0] = JSON.stringify({ event_id: 'changed', path: 'changed' });
    await sink.close();
    const stored = inserts.map((i) => [
      i.table,
      i.lines.map((l) => JSON.parse(l).event_id ?? JSON.parse(l).path ?? JSON.parse(l).raw),
    ]);
    expect(stored).toEqual([
      ['feature_events', ['changed', 'm2', 'm4']],
      ['page_views_quarantine', ['bad']],
      ['page_views', ['/m3']],
    ]);
  });

  it('moves rows of a datasource the project no longer has to feature_events_quarantine, saying so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { client, inserts } = fakeClient();
    const sink = await open(dir, client);
    await (await sink.append({ events: ['{"path":"/x"}'], quarantine: [], datasource: 'removed' })).committed;
    expect(inserts.map((i) => i.table)).toEqual(['feature_events_quarantine']);
    const row = JSON.parse(inserts[0]?.lines[0] as string);
    expect(row).toMatchObject({
      raw: '{"path":"/x"}',
      c__error: ['unknown datasource "removed": not in the project'],
    });
    await sink.close();
  });
});
