import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { segmentName } from '../queue/spool/spool-log.js';
import { spoolHasRows } from './drain-spool.js';

const root = mkdtempSync(join(tmpdir(), 'spool-has-rows-'));

describe('spoolHasRows (does a backup need to store the spool first?)', () => {
  it('is false without a spool', async () => {
    expect(await spoolHasRows(join(root, 'none'))).toBe(false);
  });

  it('is true exactly when some segment has bytes past the checkpoint, or an insert is in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 64 }), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 64 }),
        fc.boolean(),
        async (segments, sizes, cpSegment, cpOffset, inflight) => {
          const dir = join(root, 'case');
          rmSync(dir, { recursive: true, force: true });
          mkdirSync(dir);
          for (const n of segments) writeFileSync(join(dir, segmentName(n)), Buffer.alloc(sizes[n - 1] ?? 0));
          const checkpoint = { segment: cpSegment, offset: cpOffset, ...(inflight ? { inflight: {} } : {}) };
          writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify(checkpoint));
          const past = segments.some(
            (n) => n > cpSegment || (n === cpSegment && (sizes[n - 1] ?? 0) > cpOffset),
          );
          expect(await spoolHasRows(dir)).toBe(inflight || past);
        },
      ),
      { numRuns: 60 },
    );
  });
});
