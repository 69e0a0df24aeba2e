import { setImmediate } from 'node:timers/promises';
import { type ParsedRows, parseEventsBody } from '../ingest/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import { isNdjson, ndjsonSlices } from '../ingest/slices.js';
import type { EventSink } from '../queue/types.js';

/** How much of an upload the sink took: its rows, and the lines they came from. */
export interface Appended {
  events: number;
  quarantine: number;
  redacted: number;
  lines: number;
}

/** An append that stopped after some slices were taken (they stay: they are durable). */
export class PartialAppend {
  constructor(
    readonly rows: Appended,
    readonly cause: Error,
  ) {}
}

/** A slice of an upload parses in about 0.1-0.3 s: other requests are served between slices. */
export const UPLOAD_SLICE_BYTES = 4 * 1024 * 1024;

/**
 * An upload's rows to the sink a slice at a time (src/ingest/slices.ts), yielding between
 * slices: a 100 MB file otherwise held the event loop for its whole parse (13-28 s measured)
 * and all of its parsed rows at once. A failure before any slice was taken throws as before.
 */
export async function appendInSlices(
  sink: EventSink,
  ndjson: Buffer,
  pii: PiiGuard | undefined,
  counted: (rows: ParsedRows) => void,
  sliceBytes = UPLOAD_SLICE_BYTES,
): Promise<{ rows: Appended; committed: Promise<unknown> } | PartialAppend> {
  const lines = isNdjson(ndjson);
  const slices = lines ? ndjsonSlices(ndjson, sliceBytes) : [ndjson];
  const done: Appended = { events: 0, quarantine: 0, redacted: 0, lines: 0 };
  const commits: Promise<void>[] = [];
  for (const [i, slice] of slices.entries()) {
    if (i > 0) await setImmediate();
    const rows = parseEventsBody(slice, pii, { lines });
    if (rows.events.length + rows.quarantine.length > 0) {
      try {
        // The upload's reply waits for every slice to be stored.
        commits.push((await sink.append(rows, { waiting: true })).committed);
      } catch (err) {
        if (done.events + done.quarantine === 0) throw err;
        return new PartialAppend(done, err as Error);
      }
      counted(rows);
      done.events += rows.events.length;
      done.quarantine += rows.quarantine.length;
      done.redacted += rows.redacted;
    }
    done.lines += countLines(slice);
  }
  return { rows: done, committed: Promise.all(commits) };
}

/** Lines in a slice: its line ends, plus a last line without one. */
function countLines(slice: Buffer): number {
  let n = 0;
  for (let at = slice.indexOf(0x0a); at >= 0; at = slice.indexOf(0x0a, at + 1)) n++;
  return slice.length > 0 && slice[slice.length - 1] !== 0x0a ? n + 1 : n;
}
