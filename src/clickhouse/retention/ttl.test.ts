import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currentTtl, retentionTargets, ttlExpression, ttlStatement } from './ttl.js';

const SETTINGS = ' SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 8192';
const engine = (ttl?: string, settings = SETTINGS) =>
  `MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (feature_id, timestamp)${ttl ? ` TTL ${ttl}` : ''}${settings}`;

describe('retention TTL', () => {
  it('targets the raw table, the quarantine and each project datasource quarantine', () => {
    expect(retentionTargets({ rawDays: 90, quarantineDays: 30 }, ['orders'])).toEqual([
      { table: 'feature_events', column: 'timestamp', days: 90 },
      { table: 'feature_events_by_time', column: 'timestamp', days: 90 },
      { table: 'feature_events_quarantine', column: 'insertion_date', days: 30 },
      { table: 'orders_quarantine', column: 'insertion_date', days: 30 },
    ]);
  });

  it('reads back the TTL it writes, with or without SETTINGS after it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 36_500 }),
        fc.constantFrom('timestamp', 'insertion_date'),
        fc.constantFrom(SETTINGS, ''),
        (days, column, settings) => {
          const t = { table: 't', column, days };
          const text = engine(ttlExpression(t), settings);
          expect(currentTtl(text)).toBe(ttlExpression(t));
          // Already as wanted: nothing to run.
          expect(ttlStatement(t, currentTtl(text))).toBeUndefined();
        },
      ),
    );
  });

  it('modifies a different TTL, removes one for 0 days, and leaves no TTL alone for 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 36_500 }), fc.integer({ min: 1, max: 36_500 }), (had, want) => {
        fc.pre(had !== want);
        const current = currentTtl(engine(`timestamp + toIntervalDay(${had})`));
        expect(ttlStatement({ table: 'feature_events', column: 'timestamp', days: want }, current)).toBe(
          `ALTER TABLE feature_events MODIFY TTL timestamp + toIntervalDay(${want})`,
        );
        expect(ttlStatement({ table: 'feature_events', column: 'timestamp', days: 0 }, current)).toBe(
          'ALTER TABLE feature_events REMOVE TTL',
        );
      }),
    );
    expect(
      ttlStatement({ table: 'q', column: 'insertion_date', days: 0 }, currentTtl(engine())),
    ).toBeUndefined();
  });
});
