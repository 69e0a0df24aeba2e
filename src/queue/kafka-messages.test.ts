import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATASOURCE_HEADER, messageDatasource, packedHeaders, rowsOfMessage } from './kafka-messages.js';

describe('a message’s datasource', () => {
  it('is feature_events without the header: older producers and other ones', () => {
    expect(messageDatasource({ headers: {} })).toBe('feature_events');
    expect(messageDatasource({ headers: undefined })).toBe('feature_events');
    expect(messageDatasource({ headers: { 'content-type': 'application/x-ndjson' } })).toBe('feature_events');
  });

  it('is the header’s value, as a string or bytes, and survives packing', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/), fc.boolean(), (name, asBuffer) => {
        const headers = packedHeaders(name);
        expect(messageDatasource({ headers })).toBe(name);
        const value = asBuffer ? Buffer.from(name) : name;
        expect(messageDatasource({ headers: { [DATASOURCE_HEADER]: value } })).toBe(name);
        // Packed rows are read as such whatever the datasource.
        expect(rowsOfMessage({ headers, value: Buffer.from('{"a":1}\n{"a":2}') })).toHaveLength(2);
      }),
    );
  });

  it('adds no header for feature_events: its messages are as before', () => {
    expect(packedHeaders('feature_events')).toEqual({ 'content-type': 'application/x-ndjson' });
  });
});
