import { type Context, Hono } from 'hono';
import type { TokenStore } from '../auth/index.js';
import type { Reader } from '../clickhouse/reader.js';
import { csvToNdjson } from '../ingest/csv.js';
import { BodyError } from '../ingest/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import type { Log } from '../log/index.js';
import { countAccepted, countReceived, countRedacted } from '../metrics/ingest.js';
import type { Metrics } from '../metrics/registry.js';
import { BackpressureError, type EventSink } from '../queue/types.js';
import { admit, backpressure } from './append-rows.js';
import { appendInSlices, PartialAppend } from './append-slices.js';
import { identify, requireScope } from './auth.js';
import { jsonError } from './errors.js';
import type { IngestAdmission } from './ingest-admission.js';
import { noteRows } from './request-log.js';

const DOC = 'https://www.tinybird.co/docs/api-reference/datasource-api';

export interface DatasourcesRouteDeps {
  reader: () => Reader | undefined;
  sink: () => EventSink | undefined;
  tokens: TokenStore;
  datasources: ReadonlySet<string>;
  /** The largest upload accepted (bulk appends are back-fills: larger than one Events API request). */
  maxUploadBytes: number;
  log: Log;
  metrics?: Metrics;
  /** Redacts or quarantines personal data in rows (src/ingest/pii); none when PII_POLICY=off. */
  pii?: PiiGuard;
  /** The Events API's bound on bodies read and parsed at once; an upload takes its share too. */
  admission?: IngestAdmission;
}

interface TableRow {
  name: string;
  engine: string;
  total_rows: number | string | null;
  total_bytes: number | string | null;
}

/**
 * Tinybird's Data Sources API: GET /v0/datasources (those the token may read),
 * GET /v0/datasources/<name> (schema, row count, bytes), and the bulk append
 * POST /v0/datasources?name=<ds>&mode=append with an NDJSON or CSV file, whose rows take the
 * Events API's path: the same validation and quarantine, the same spool or Kafka, the same
 * exactly-once inserts. It answers once the rows are in ClickHouse.
 */
export function datasourcesRoute(deps: DatasourcesRouteDeps): Hono {
  const app = new Hono();

  const describe = async (names: string[]) => {
    const reader = deps.reader();
    if (!reader || names.length === 0) return reader ? [] : undefined;
    const tables = await (
      await reader.query({
        query:
          'SELECT name, engine, total_rows, total_bytes FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
        query_params: { names },
        format: 'JSONEachRow',
      })
    ).json<TableRow>();
    const columns = await (
      await reader.query({
        query:
          'SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN {names:Array(String)} ORDER BY table, position',
        query_params: { names },
        format: 'JSONEachRow',
      })
    ).json<{ table: string; name: string; type: string }>();
    return tables.map((t) => ({
      id: t.name,
      name: t.name,
      engine: { engine: t.engine },
      columns: columns
        .filter((c) => c.table === t.name)
        .map((c) => ({ name: c.name, type: c.type, nullable: c.type.startsWith('Nullable(') })),
      statistics: { row_count: Number(t.total_rows ?? 0), bytes: Number(t.total_bytes ?? 0) },
    }));
  };

  const readableBy = (c: Context) => {
    const who = identify(c, deps.tokens, DOC);
    if (!who.ok) return who;
    const names = [...deps.datasources].filter(
      (n) =>
        deps.tokens.allows(who.token, 'DATASOURCES:READ', n) ||
        deps.tokens.allows(who.token, 'DATASOURCES:APPEND', n),
    );
    return { ok: true as const, names };
  };

  app.get('/', async (c) => {
    const r = readableBy(c);
    if (!r.ok) return r.response;
    const list = await describe(r.names);
    if (!list) return jsonError(c, 503, 'Not ready yet, retry shortly', DOC, { 'Retry-After': '1' });
    return c.json({ datasources: list });
  });

  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const r = readableBy(c);
    if (!r.ok) return r.response;
    if (!deps.datasources.has(name)) return jsonError(c, 404, `Data source "${name}" does not exist`, DOC);
    if (!r.names.includes(name))
      return jsonError(c, 403, `The token lacks the scope DATASOURCES:READ:${name}`, DOC);
    const [one] = (await describe([name])) ?? [];
    if (!one) return jsonError(c, 503, 'Not ready yet, retry shortly', DOC, { 'Retry-After': '1' });
    return c.json(one);
  });

  app.post('/', async (c) => {
    const name = c.req.query('name');
    if (!name)
      return jsonError(c, 400, 'Missing parameter "name": the data source, e.g. ?name=feature_events', DOC);
    const mode = c.req.query('mode') ?? 'append';
    if (mode !== 'append')
      return jsonError(c, 400, `Parameter "mode": only "append" is supported here, got "${mode}"`, DOC);
    const who = identify(c, deps.tokens, DOC);
    if (!who.ok) return who.response;
    if (!deps.datasources.has(name)) return jsonError(c, 404, `Data source "${name}" does not exist`, DOC);
    const denied = requireScope(c, deps.tokens, who.token, 'DATASOURCES:APPEND', name, DOC);
    if (denied) return denied;
    const sink = deps.sink();
    if (!sink) return jsonError(c, 503, 'Not ready yet, retry shortly', DOC, { 'Retry-After': '1' });
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > deps.maxUploadBytes)
      return jsonError(c, 413, `The upload is larger than ${deps.maxUploadBytes} bytes: split the file`, DOC);
    const admitted = await admit(c, sink, deps.admission, deps.maxUploadBytes, DOC);
    if (admitted instanceof Response) return admitted;
    try {
      const upload = await readUpload(c, deps.maxUploadBytes);
      admitted?.atLeast(upload.bytes.length);
      const ndjson = upload.format === 'csv' ? csvToNdjson(upload.bytes) : upload.bytes;
      const appended = await appendInSlices(sink, ndjson, deps.pii, (rows) => {
        countReceived(deps.metrics, name, rows.events.length + rows.quarantine.length);
        countAccepted(deps.metrics, name, {
          accepted: rows.events.length,
          quarantined: rows.quarantine.length,
        });
        countRedacted(deps.metrics, name, rows.redacted);
      });
      if (appended instanceof PartialAppend) {
        const { rows, cause } = appended;
        // (A CSV's records are the NDJSON lines it was turned into, its header not counted.)
        const unit = upload.format === 'csv' ? 'records' : 'lines';
        deps.log('error', 'bulk append stopped part-way', { stored: rows.events, error: cause.message });
        return c.json(
          {
            error: `The file's first ${rows.lines} ${unit} were taken (${rows.events} rows, ${rows.quarantine} quarantined), then: ${cause instanceof BackpressureError ? cause.message : 'could not store the rows'}. Send the ${unit} after those again`,
            documentation: DOC,
            successful_rows: rows.events,
            quarantine_rows: rows.quarantine,
          },
          503,
          { 'Retry-After': String(cause instanceof BackpressureError ? cause.retryAfterSeconds : 1) },
        );
      }
      const rows = appended.rows;
      if (rows.events + rows.quarantine === 0) return jsonError(c, 400, 'The file holds no rows', DOC);
      admitted?.release();
      noteRows(c, rows.events + rows.quarantine);
      await appended.committed;
      return c.json({
        datasource: { id: name, name },
        import_id: crypto.randomUUID(),
        successful_rows: rows.events,
        quarantine_rows: rows.quarantine,
        redacted_rows: rows.redacted,
        invalid_lines: 0,
        error: false,
      });
    } catch (err) {
      if (err instanceof BodyError) return jsonError(c, err.status, err.message, DOC);
      if (err instanceof BackpressureError) return backpressure(c, err, DOC);
      deps.log('error', 'bulk append failed', { error: (err as Error).message });
      return jsonError(c, 503, 'Could not store the rows; retry later', DOC, { 'Retry-After': '1' });
    } finally {
      admitted?.release();
    }
  });
  return app;
}

/** The file of a multipart upload (field csv or ndjson, as Tinybird's CLI sends), or the raw body with ?format=. */
async function readUpload(
  c: Context,
  maxBytes: number,
): Promise<{ format: 'csv' | 'ndjson'; bytes: Buffer }> {
  const type = c.req.header('content-type') ?? '';
  let format = (c.req.query('format') ?? '').toLowerCase();
  let bytes: Buffer;
  if (type.startsWith('multipart/form-data')) {
    const form = await c.req.formData();
    const field = (['csv', 'ndjson', 'file'] as const).find((f) => form.has(f));
    const value = field ? form.get(field) : undefined;
    if (!field || value === null || value === undefined)
      throw new BodyError(
        'Send the file as a multipart field named csv or ndjson (curl -F csv=@events.csv)',
        400,
      );
    bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(await value.arrayBuffer());
    if (field !== 'file') format = field;
  } else {
    bytes = Buffer.from(await c.req.arrayBuffer());
  }
  if (bytes.length > maxBytes)
    throw new BodyError(`The upload is larger than ${maxBytes} bytes: split the file`, 413);
  if (format !== 'csv' && format !== 'ndjson')
    throw new BodyError('Say what the file is: a multipart field csv or ndjson, or ?format=csv|ndjson', 400);
  return { format, bytes };
}
