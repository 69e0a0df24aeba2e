import * as crypto from 'node:crypto';
import { DATASOURCE_NAME, DEFAULT_DATASOURCE, type IngestRows } from '../types.js';

// One spool record holds the rows of one request, framed so a torn write (the process
// killed mid-write) is detected and dropped whole: [u32 length][u32 checksum][payload].
// A request is acknowledged only after its record is fsynced, so a torn record was
// never acknowledged and dropping it loses nothing that was promised.
export const HEADER_BYTES = 8;

// crypto.hash (Node >= 20.12) is the same SHA-256 without a Hash object per call: a third of
// the cost for a single event's record, which is hashed once per request.
const oneShot = (crypto as { hash?: (alg: string, data: Buffer, enc: 'buffer') => Buffer }).hash;

function checksum(payload: Buffer): number {
  const digest = oneShot
    ? oneShot('sha256', payload, 'buffer')
    : crypto.createHash('sha256').update(payload).digest();
  return digest.readUInt32LE(0);
}

/**
 * Payload lines: "d" + the datasource's name (left out for feature_events, so a record of
 * it reads the same as before datasources travelled with rows), then "e" + event JSON or
 * "q" + quarantine JSON, each ending in "\n".
 */
export function encodeRecord(rows: IngestRows): Buffer {
  let text = '';
  const ds = rows.datasource;
  if (ds !== undefined && ds !== DEFAULT_DATASOURCE) {
    // Only a name can follow "d": a newline in it would turn the rest into rows.
    if (!DATASOURCE_NAME.test(ds)) throw new Error(`not a datasource name: ${JSON.stringify(ds)}`);
    text += `d${ds}\n`;
  }
  for (const line of rows.events) text += `e${line}\n`;
  for (const line of rows.quarantine) text += `q${line}\n`;
  // One buffer, header then payload written in place (no separate payload and concat copy).
  const length = Buffer.byteLength(text, 'utf8');
  const record = Buffer.allocUnsafe(HEADER_BYTES + length);
  record.write(text, HEADER_BYTES, 'utf8');
  record.writeUInt32LE(length, 0);
  record.writeUInt32LE(checksum(record.subarray(HEADER_BYTES)), 4);
  return record;
}

export function decodePayload(payload: Buffer): IngestRows {
  const rows: IngestRows = { events: [], quarantine: [] };
  for (const line of payload.toString('utf8').split('\n')) {
    if (line.startsWith('e')) rows.events.push(line.slice(1));
    else if (line.startsWith('q')) rows.quarantine.push(line.slice(1));
    else if (line.startsWith('d')) rows.datasource = line.slice(1);
  }
  return rows;
}

export interface DecodedRecord {
  start: number;
  end: number;
  rows: IngestRows;
}

/**
 * Reads whole, intact records from buf (a segment's bytes from `base`). Stops at the
 * first incomplete or corrupt record and reports where the valid data ends.
 */
export function decodeRecords(buf: Buffer, base: number): { records: DecodedRecord[]; validEnd: number } {
  const records: DecodedRecord[] = [];
  let pos = 0;
  while (pos + HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(pos);
    const end = pos + HEADER_BYTES + length;
    if (end > buf.length) break;
    const payload = buf.subarray(pos + HEADER_BYTES, end);
    if (checksum(payload) !== buf.readUInt32LE(pos + 4)) break;
    records.push({ start: base + pos, end: base + end, rows: decodePayload(payload) });
    pos = end;
  }
  return { records, validEnd: base + pos };
}
