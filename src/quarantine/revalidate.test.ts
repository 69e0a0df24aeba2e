import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PiiGuard, parseDenyKeys } from '../ingest/pii/index.js';
import { revalidate } from './revalidate.js';

const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '');
const validEvent = fc.record({
  event_id: text,
  user_id: text,
  feature_id: text,
  product_version: text,
  event_type: text,
  timestamp: fc
    .date({
      min: new Date('1971-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(0, 19).replace('T', ' ')),
});

const errorsOf = (line: string) => (JSON.parse(line) as { c__error: string[] }).c__error;

describe('revalidate (a quarantined row through the ingest validation)', () => {
  it('stores a row that is valid now as exactly one event line, with the fields it was sent with', () => {
    fc.assert(
      fc.property(validEvent, fc.array(fc.string(), { maxLength: 2 }), (event, oldErrors) => {
        const v = revalidate(JSON.stringify(event), oldErrors);
        expect(v.outcome).toBe('stored');
        if (v.outcome !== 'stored') return;
        expect(v.events).toHaveLength(1);
        expect(v.quarantine).toHaveLength(0);
        expect(JSON.parse(v.events[0] as string)).toMatchObject({
          event_id: event.event_id,
          user_id: event.user_id,
        });
      }),
    );
  });

  it('never stores, and never throws on, a line that is not a valid event', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          validEvent.map((e) => JSON.stringify({ ...e, timestamp: 'not a time' })),
          validEvent.map(({ user_id: _, ...rest }) => JSON.stringify(rest)),
        ),
        (raw) => {
          const v = revalidate(raw, ['whatever it was']);
          expect(v.outcome).not.toBe('stored');
        },
      ),
    );
  });

  it('leaves a row failing for the same reason untouched, and requarantines one whose reason changed', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const raw = JSON.stringify({ ...event, timestamp: 'yesterday' });
        const first = revalidate(raw, ['an older reason']);
        expect(first.outcome).toBe('requarantined');
        if (first.outcome !== 'requarantined') return;
        const reasons = errorsOf(first.quarantine[0] as string);
        expect(reasons.join(' ')).toMatch(/timestamp/);
        expect(revalidate(raw, reasons)).toEqual({ outcome: 'unchanged' });
      }),
    );
  });

  it('passes the replayed row through the PII guard, as the Events API does', () => {
    const guard = new PiiGuard({ policy: 'redact', denyKeys: parseDenyKeys(undefined), hashKey: 'k' });
    const raw = JSON.stringify({
      event_id: 'e1',
      user_id: 'u1',
      feature_id: 'search',
      product_version: '1.0',
      event_type: 'click',
      timestamp: '2026-01-01 00:00:00',
      metadata: JSON.stringify({ contact: 'jane.doe@example.com' }),
    });
    const v = revalidate(raw, ['an older rule'], guard);
    expect(v.outcome).toBe('stored');
    if (v.outcome !== 'stored') return;
    expect(v.events[0]).not.toContain('jane.doe@example.com');
    expect(v.events[0]).toContain('[redacted:email]');
    // Without a guard (PII_POLICY=off) the row is stored as sent.
    const off = revalidate(raw, ['an older rule']);
    expect(off.outcome === 'stored' && off.events[0]).toContain('jane.doe@example.com');
  });
});
