import type { IHeaders, KafkaMessage } from 'kafkajs';
import { DEFAULT_DATASOURCE } from './types.js';

/**
 * How rows travel in Kafka messages. Our producer packs many rows into one message: the
 * mock broker and kafkajs both pay per message, not per byte (1M one-row messages drained at
 * ~8k rows/s, the same rows 100 to a message in under a second), and ClickHouse's own Kafka
 * engine reads JSONEachRow messages holding several rows the same way.
 *
 * A packed message's value is the rows' JSON lines joined by "\n" (our serialiser writes
 * compact JSON, so a row never holds a raw newline), marked by a header so that a message
 * from another producer, which carries one JSON row and may be pretty-printed, is read as
 * exactly one row.
 */
export const ROWS_FORMAT_HEADER = 'content-type';
export const NDJSON_ROWS = 'application/x-ndjson';

export const PACKED_HEADERS: IHeaders = { [ROWS_FORMAT_HEADER]: NDJSON_ROWS };

/**
 * The datasource a message's rows are for, when it is not feature_events. A header rather than
 * a topic per datasource: a project's datasources then need no topics created for them (topics
 * are not auto-created), and feature_events messages are as they were, so a message without
 * it, from an older producer or another one, is feature_events.
 */
export const DATASOURCE_HEADER = 'x-datasource';

/** The headers of a packed message of `datasource`'s rows. */
export function packedHeaders(datasource: string): IHeaders {
  return datasource === DEFAULT_DATASOURCE
    ? PACKED_HEADERS
    : { ...PACKED_HEADERS, [DATASOURCE_HEADER]: datasource };
}

/** The datasource a message is for: its x-datasource header, or feature_events without one. */
export function messageDatasource(message: Pick<KafkaMessage, 'headers'>): string {
  const value = headerText(message.headers, DATASOURCE_HEADER);
  return value === undefined || value === '' ? DEFAULT_DATASOURCE : value;
}

/** The rows of one message: every line of a packed message, or the whole value of any other. */
export function rowsOfMessage(message: Pick<KafkaMessage, 'value' | 'headers'>): string[] {
  if (!message.value || message.value.length === 0) return [];
  const text = message.value.toString('utf8');
  if (!isPacked(message.headers)) return [text];
  const lines = text.split('\n');
  // Tolerate a trailing newline; an empty line inside is not a row.
  return lines.filter((l) => l.length > 0);
}

/** How many rows a message carries, without decoding it (newlines + 1 in a packed message). */
export function rowCount(message: Pick<KafkaMessage, 'value' | 'headers'>): number {
  const value = message.value;
  if (!value || value.length === 0) return 0;
  if (!isPacked(message.headers)) return 1;
  let n = 1;
  for (let at = value.indexOf(10); at !== -1; at = value.indexOf(10, at + 1)) n++;
  return n;
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const h = headers?.[name];
  const value = Array.isArray(h) ? h[0] : h;
  return value?.toString();
}

function isPacked(headers: IHeaders | undefined): boolean {
  return headerText(headers, ROWS_FORMAT_HEADER) === NDJSON_ROWS;
}

/** Limits of one packed message: the broker refuses messages over message.max.bytes (1 MB by default). */
export interface PackLimits {
  maxRows: number;
  maxBytes: number;
}

/**
 * Cuts rows (already grouped for one partition) into consecutive messages of at most
 * maxRows rows and maxBytes bytes; a single row bigger than maxBytes travels alone.
 * Returns the index ranges [start, end) into `bytes`.
 */
export function packRanges(bytes: readonly number[], limits: PackLimits): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = (bytes[i] as number) + 1; // its newline
    if (i > start && (i - start >= limits.maxRows || size + b > limits.maxBytes)) {
      out.push([start, i]);
      start = i;
      size = 0;
    }
    size += b;
  }
  if (start < bytes.length) out.push([start, bytes.length]);
  return out;
}
