import { afterAll, describe, expect, it } from 'vitest';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The promise of a 2xx: after SIGKILL at any moment and a restart, every acknowledged
// row is in ClickHouse, and none is stored twice.
let svc: ServiceProcess | undefined;
afterAll(async () => {
  await svc?.stop();
});

async function drained(s: ServiceProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ready = (await (await fetch(`${s.baseUrl}/v0/ready`)).json()) as { pending_rows?: number };
    if (ready.pending_rows === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('spool did not drain');
}

describe('SIGKILL and restart', () => {
  it('keeps every acknowledged row, once', async () => {
    // A long batch interval keeps acknowledged rows waiting in the spool when the kill comes.
    svc = await startServiceProcess({ env: { BATCH_MAX_WAIT_MS: '700', BATCH_MAX_ROWS: '3000' } });
    const { baseUrl, token, dataDir } = svc;
    const acked: string[] = [];
    let sent = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let r = 0; !stop; r++) {
        const rows = Array.from({ length: 40 }, (_, i) =>
          event({ event_id: `k_${w}_${r}_${i}`, user_id: `u${i % 5}` }),
        );
        sent += rows.length;
        try {
          const res = await fetch(`${baseUrl}/v0/events?name=feature_events`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}` },
            body: ndjson(rows),
          });
          if (res.status === 202) acked.push(...rows.map((x) => x.event_id as string));
        } catch {
          return; // the process died under us: this request was not acknowledged
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    // Kill while requests are in flight and earlier batches are being inserted.
    await new Promise((r) => setTimeout(r, 2500));
    await svc.kill();
    stop = true;
    await Promise.all(workers);
    expect(acked.length).toBeGreaterThan(1000);

    svc = await startServiceProcess({ dataDir, env: { BATCH_MAX_WAIT_MS: '50' } });
    await drained(svc);
    const [stats] = await svc.sql<{ rows: number; ids: number }>(
      "SELECT count() AS rows, uniqExact(event_id) AS ids FROM feature_events WHERE startsWith(event_id, 'k_')",
    );
    expect(Number(stats?.rows)).toBe(Number(stats?.ids)); // nothing twice
    const stored = new Set(
      (
        await svc.sql<{ event_id: string }>(
          "SELECT event_id FROM feature_events WHERE startsWith(event_id, 'k_')",
        )
      ).map((r) => r.event_id),
    );
    const missing = acked.filter((id) => !stored.has(id));
    expect(missing).toEqual([]); // nothing acknowledged is lost
    // The rollups agree with the raw table (no double counting through the views either).
    const [views] = await svc.sql<{ events: number }>(
      "SELECT sum(events) AS events FROM feature_usage_by_user WHERE startsWith(user_id, 'u') AND feature_id = 'feature_recommendations'",
    );
    const [raw] = await svc.sql<{ events: number }>(
      "SELECT count() AS events FROM feature_events WHERE startsWith(user_id, 'u') AND feature_id = 'feature_recommendations'",
    );
    expect(Number(views?.events)).toBe(Number(raw?.events));
    console.log(`crash test: sent ${sent}, acknowledged ${acked.length}, stored ${stored.size}, lost 0`);
  });

  it('drains and exits 0 on SIGTERM, with wait=true requests answered', async () => {
    const { dataDir } = svc as ServiceProcess;
    await svc?.stop();
    svc = await startServiceProcess({ dataDir, env: { BATCH_MAX_WAIT_MS: '5000' } });
    const s = svc;
    const waiting = fetch(`${s.baseUrl}/v0/events?name=feature_events&wait=true`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.token}` },
      body: JSON.stringify(event({ event_id: 'term_1' })),
    });
    await new Promise((r) => setTimeout(r, 300));
    const code = await s.stop();
    expect(code).toBe(0);
    expect((await waiting).status).toBe(200);
    svc = await startServiceProcess({ dataDir });
    expect(await svc.sql("SELECT event_id FROM feature_events WHERE event_id = 'term_1'")).toHaveLength(1);
  });
});
