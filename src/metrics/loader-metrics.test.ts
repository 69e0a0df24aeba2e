import { describe, expect, it } from 'vitest';
import type { Store } from '../clickhouse/store.js';
import { retry } from '../lib/retry.js';
import { BatchWriter } from '../loader/batch-writer.js';
import { loaderMetrics } from './loader-metrics.js';
import { createMetrics, type Metrics } from './registry.js';

const TABLES = { events: 'feature_events', quarantine: 'feature_events_quarantine' };

/** A Store in memory: a row whose x is POISON is refused as a data error; `transient` failures come first. */
function memoryStore(transient = 0) {
  const stored: Record<string, string[]> = {};
  const store: Store = {
    async insert(table, lines) {
      if (transient > 0) {
        transient--;
        throw new Error('connect ECONNREFUSED');
      }
      if (lines.some((l) => l.includes('"x":"POISON"')))
        throw Object.assign(new Error('Cannot parse'), { code: '27' });
      stored[table] = [...(stored[table] ?? []), ...lines];
    },
    query: async () => [],
  };
  return { store, stored };
}

/** A counter's value, summed over the series that carry `labels`. */
async function value(m: Metrics, name: keyof Metrics, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await (
    m[name] as { get(): Promise<{ values: Array<{ value: number; labels: object }> }> }
  ).get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, string>)[k] === l))
    .reduce((n, v) => n + v.value, 0);
}

describe('loader metrics', () => {
  it('count the rows each table got: poison rows under quarantine, re-sent ids as duplicates', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const { store, stored } = memoryStore();
    const writer = new BatchWriter(store, { dedupWindow: 100, observer: loaderMetrics(m, TABLES) });
    const rows = {
      events: ['{"event_id":"a"}', '{"event_id":"b","x":"POISON"}', '{"event_id":"a"}', '{"event_id":"c"}'],
      quarantine: ['{"raw":"bad"}'],
    };
    await writer.write(rows, 'batch-1', writer.select(rows));
    expect(stored.feature_events).toEqual(['{"event_id":"a"}', '{"event_id":"c"}']);
    expect(await value(m, 'insertedRows', { table: 'feature_events' })).toBe(2);
    expect(await value(m, 'insertedRows', { table: 'feature_events_quarantine' })).toBe(
      stored.feature_events_quarantine?.length ?? -1,
    );
    expect(await value(m, 'insertedRows', { table: 'feature_events_quarantine' })).toBe(2);
    expect(await value(m, 'duplicateRows')).toBe(1);
    const batch = (await m.batchRows.get()).values;
    expect(batch.find((v) => v.metricName === 'feature_events_batch_rows_sum')?.value).toBe(4);
    const bytes = (await m.batchBytes.get()).values;
    const sent = ['{"event_id":"a"}', '{"event_id":"b","x":"POISON"}', '{"event_id":"c"}', '{"raw":"bad"}'];
    expect(bytes.find((v) => v.metricName === 'feature_events_batch_bytes_sum')?.value).toBe(
      sent.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0),
    );
    expect(await value(m, 'insertFailures')).toBe(0);
  });

  it('count every failed attempt and every retry the retry policy schedules', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const { store, stored } = memoryStore(3);
    const writer = new BatchWriter(store, { dedupWindow: 0, observer: loaderMetrics(m, TABLES) });
    const rows = { events: ['{"event_id":"a"}'], quarantine: [] };
    await retry(() => writer.write(rows, 'batch-2'), {
      minMs: 0,
      maxMs: 0,
      wait: async () => {},
      onError: () => writer.observer.insertRetried(),
    });
    expect(stored.feature_events).toEqual(['{"event_id":"a"}']);
    expect(await value(m, 'insertFailures')).toBe(3);
    expect(await value(m, 'insertRetries')).toBe(3);
    expect(await value(m, 'insertedRows', { table: 'feature_events' })).toBe(1);
    const durations = (await m.insertDuration.get()).values.filter((v) => v.metricName?.endsWith('_count'));
    expect(durations.map((v) => [v.labels.result, v.value]).sort()).toEqual([
      ['error', 3],
      ['ok', 1],
    ]);
  });
});
