import { describe, expect, it } from 'vitest';
import { normalizeTimestamp } from './timestamp.js';

describe('normalizeTimestamp', () => {
  it.each([
    ['2023-10-15 14:35:22', '2023-10-15 14:35:22'],
    ['2023-10-15T14:35:22Z', '2023-10-15 14:35:22'],
    ['2023-10-15T14:35:22.987Z', '2023-10-15 14:35:22'],
    ['2023-10-15T16:35:22+02:00', '2023-10-15 14:35:22'],
    ['2023-10-15T09:35:22-0500', '2023-10-15 14:35:22'],
    ['2024-02-29 00:00:00', '2024-02-29 00:00:00'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeTimestamp(input)).toBe(expected);
  });

  it.each([
    '15/10/2023',
    '2023-10-15',
    '2023-13-01 00:00:00',
    '2023-02-30 00:00:00',
    '2023-10-15 24:00:00',
    '1969-12-31 23:59:59',
    '2200-01-01 00:00:00',
    '2023-10-15 14:35:22 extra',
    '',
  ])('rejects %j', (input) => {
    expect(normalizeTimestamp(input)).toBeUndefined();
  });
});
