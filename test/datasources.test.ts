import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// Tinybird's Data Sources API: schema and counts, and bulk append of NDJSON or CSV files
// through the Events API's validation, quarantine and exactly-once path.

const APPEND = 'append-token-0123456789';
const PIPES = 'pipes-token-0123456789';
let svc: ServiceProcess;
beforeAll(async () => {
  svc = await startServiceProcess({
    env: { TB_TOKENS: `tracker:${APPEND}:DATASOURCES:APPEND:feature_events;dash:${PIPES}:PIPES:READ:kpis` },
  });
});
afterAll(async () => {
  await svc?.stop();
});

const upload = (
  field: string,
  text: string,
  token = svc.token,
  query = 'name=feature_events&mode=append',
) => {
  const form = new FormData();
  form.set(field, new Blob([text]), `events.${field}`);
  return fetch(`${svc.baseUrl}/v0/datasources?${query}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  });
};
const count = async (where: string) =>
  Number((await svc.sql<{ c: string }>(`SELECT count() AS c FROM feature_events WHERE ${where}`))[0]?.c);

describe('/v0/datasources', () => {
  it('appends an NDJSON file, quarantining its bad rows, and answers after the rows are stored', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => event({ event_id: `bulk_${i}` }));
    const res = await upload('ndjson', `${ndjson(rows)}\n{"event_id":"bulk_bad"}\nnot json`, APPEND);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ successful_rows: 3000, quarantine_rows: 2, error: false });
    expect(await count("startsWith(event_id, 'bulk_')")).toBe(3000);
  });

  it('appends a CSV file with a header row; the same file twice is stored once (re-sent event_ids)', async () => {
    const csv = [
      'event_id,user_id,feature_id,product_version,event_type,timestamp,session_id,metadata,account_id',
      'csv_1,u1,feature_export,2.4.1,feature_used,2026-11-30 10:00:00,s1,"{""a"":1}",acc_9',
      'csv_2,u2,feature_export,2.4.1,feature_used,2026-11-30T10:00:01Z,,,',
      'csv_3,u3,,2.4.1,feature_used,2026-11-30 10:00:02,,,',
    ].join('\n');
    for (let i = 0; i < 2; i++) {
      const res = await upload('csv', csv, APPEND);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ successful_rows: 2, quarantine_rows: 1 });
    }
    expect(await count("startsWith(event_id, 'csv_')")).toBe(2);
    const [row] = await svc.sql<{ metadata: string; account_id: string }>(
      "SELECT metadata, account_id FROM feature_events WHERE event_id = 'csv_1'",
    );
    expect(row).toEqual({ metadata: '{"a":1}', account_id: 'acc_9' });
  });

  it('refuses what it should', async () => {
    expect((await upload('ndjson', ndjson([event()]), PIPES)).status).toBe(403);
    expect((await upload('ndjson', ndjson([event()]), APPEND, 'name=nope')).status).toBe(404);
    expect(
      (await upload('ndjson', ndjson([event()]), APPEND, 'name=feature_events&mode=replace')).status,
    ).toBe(400);
    expect((await upload('parquet', 'x', APPEND)).status).toBe(400);
    expect((await upload('csv', 'a,b\n"broken,1\n', APPEND)).status).toBe(400);
  });

  it('describes the data source: columns, row count, bytes; only to tokens that may read it', async () => {
    const list = (await (
      await fetch(`${svc.baseUrl}/v0/datasources`, { headers: { Authorization: `Bearer ${svc.token}` } })
    ).json()) as {
      datasources: Array<{
        name: string;
        columns: Array<{ name: string }>;
        statistics: { row_count: number };
      }>;
    };
    const [ds] = list.datasources;
    expect(ds?.name).toBe('feature_events');
    expect(ds?.columns.map((c) => c.name)).toContain('account_id');
    expect(ds?.statistics.row_count).toBe(3002);
    const one = await fetch(`${svc.baseUrl}/v0/datasources/feature_events?token=${APPEND}`);
    expect(one.status).toBe(200);
    expect((await fetch(`${svc.baseUrl}/v0/datasources/feature_events?token=${PIPES}`)).status).toBe(403);
    expect(
      (
        (await (await fetch(`${svc.baseUrl}/v0/datasources?token=${PIPES}`)).json()) as {
          datasources: unknown[];
        }
      ).datasources,
    ).toEqual([]);
  });

  it('appends a file larger than one parse slice (4 MiB): every row once, bad lines counted', async () => {
    const pad = 'x'.repeat(300);
    const rows = Array.from({ length: 14_000 }, (_, i) =>
      event({ event_id: `big_${i}`, metadata: JSON.stringify({ pad }) }),
    );
    const text = `${ndjson(rows.slice(0, 7000))}\nnot json\n\n${ndjson(rows.slice(7000))}\n`;
    expect(text.length).toBeGreaterThan(4 * 1024 * 1024);
    const res = await upload('ndjson', text, APPEND);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ successful_rows: 14_000, quarantine_rows: 1 });
    expect(await count("startsWith(event_id, 'big_')")).toBe(14_000);
    expect(
      await count(
        "startsWith(event_id, 'big_') AND event_id IN ('big_0', 'big_6999', 'big_7000', 'big_13999')",
      ),
    ).toBe(4);
  });
});
