import type { Context } from 'hono';
import { BodyError, readBody } from '../ingest/index.js';
import type { Log } from '../log/index.js';
import { countAccepted, countReceived, countRedacted } from '../metrics/ingest.js';
import type { Metrics } from '../metrics/registry.js';
import { BackpressureError, type EventSink, type IngestRows } from '../queue/types.js';
import { DOCS, jsonError } from './errors.js';
import type { Admitted, IngestAdmission } from './ingest-admission.js';
import { noteRows } from './request-log.js';

export interface AppendDeps {
  sink: () => EventSink | undefined;
  maxBodyBytes: number;
  log: Log;
  metrics?: Metrics;
  /** Bounds the bytes of bodies read and parsed at once (INGEST_MAX_INFLIGHT_BYTES). */
  admission?: IngestAdmission;
}

/**
 * The Events API's write once the caller may append, for every datasource: the body read and
 * parsed into rows (`parse` knows the datasource's columns), the rows handed to the sink (the
 * spool or Kafka), 202 once they are durable there, 200 with wait=true once they are stored.
 */
export async function appendBody(
  c: Context,
  deps: AppendDeps,
  /** The rows, and how many of them the PII guard changed. */
  parse: (body: Buffer) => IngestRows & { redacted?: number },
): Promise<Response> {
  const sink = deps.sink();
  if (!sink)
    return jsonError(c, 503, 'Not ready yet: storage is starting, retry shortly', DOCS.events, {
      'Retry-After': '1',
    });
  const admitted = await admit(c, sink, deps.admission, deps.maxBodyBytes);
  if (admitted instanceof Response) return admitted;
  try {
    return await appendAdmitted(c, deps, sink, parse, admitted);
  } finally {
    admitted?.release();
  }
}

/**
 * Waits for room under INGEST_MAX_INFLIGHT_BYTES before the body is read
 * (src/http/ingest-admission.ts); a full queue, or no room in time, is the 503 reply.
 */
export async function admit(
  c: Context,
  sink: EventSink,
  admission: IngestAdmission | undefined,
  /** What a body without a declared length is counted as: the most it may be. */
  maxBytes: number,
  documentation: string = DOCS.events,
): Promise<Admitted | Response | undefined> {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  try {
    // A full spool refuses first: no use waiting for room to read a body it cannot take.
    sink.checkCapacity(declared || 0);
    return await admission?.admit(Number.isSafeInteger(declared) ? declared : maxBytes);
  } catch (err) {
    if (err instanceof BackpressureError) return backpressure(c, err, documentation);
    throw err;
  }
}

async function appendAdmitted(
  c: Context,
  deps: AppendDeps,
  sink: EventSink,
  parse: (body: Buffer) => IngestRows & { redacted?: number },
  admitted: Admitted | undefined,
): Promise<Response> {
  let rows: IngestRows & { redacted?: number };
  try {
    const body = await readBody(c.req.raw, deps.maxBodyBytes);
    // A gzip body is parsed at its decompressed size.
    admitted?.atLeast(body.length);
    // Row problems never throw: each bad row is quarantined with its reason. A throw
    // here is a bug of ours, answered 500 by the app (no Retry-After: the same body
    // would fail again), never the 503 that tells clients to retry.
    rows = parse(body);
  } catch (err) {
    if (err instanceof BodyError) return jsonError(c, err.status, err.message);
    if (err instanceof BackpressureError) return backpressure(c, err);
    throw err;
  }
  if (rows.events.length + rows.quarantine.length === 0) {
    return jsonError(c, 400, 'Empty body: send one JSON object, or NDJSON with one object per line');
  }
  const datasource = rows.datasource ?? 'feature_events';
  countReceived(deps.metrics, datasource, rows.events.length + rows.quarantine.length);
  try {
    const waiting = c.req.query('wait') === 'true';
    const acceptance = await sink.append(rows, { waiting });
    // redacted_rows: stored rows the PII guard changed (they are among successful_rows).
    const reply = {
      successful_rows: rows.events.length,
      quarantined_rows: rows.quarantine.length,
      redacted_rows: rows.redacted ?? 0,
    };
    countAccepted(deps.metrics, datasource, {
      accepted: reply.successful_rows,
      quarantined: reply.quarantined_rows,
    });
    countRedacted(deps.metrics, datasource, reply.redacted_rows);
    noteRows(c, reply.successful_rows + reply.quarantined_rows);
    // The rows are the sink's now (the spool bounds what it keeps in memory): a wait=true
    // request does not hold room while its batch is inserted.
    admitted?.release();
    if (waiting) {
      await acceptance.committed;
      return c.json(reply, 200);
    }
    return c.json(reply, 202);
  } catch (err) {
    if (err instanceof BackpressureError) return backpressure(c, err);
    // Only storage is left to fail here (the spool's disk, Kafka): our side, retryable.
    deps.log('error', 'ingest failed', { datasource: rows.datasource, error: (err as Error).message });
    return jsonError(c, 503, `${storeFailure(err)}; nothing was acknowledged: retry later`, DOCS.events, {
      'Retry-After': '1',
    });
  }
}

/** 503 + Retry-After for a full queue or a full admission bound: nothing of the request was taken. */
export function backpressure(c: Context, err: BackpressureError, documentation: string = DOCS.events) {
  return jsonError(c, 503, `${err.message}. Nothing was ingested: retry later`, documentation, {
    'Retry-After': String(err.retryAfterSeconds),
  });
}

/** What the client is told when the rows could not be stored (the detail is in the log). */
function storeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'Could not store the rows: the disk is full';
  return 'Could not store the rows';
}
