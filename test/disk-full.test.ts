import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { event, ndjson, postEvents, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The data directory on a small tmpfs that the test fills up: ingest answers 503 (nothing
// acknowledged that is not stored), /v0/ready answers 503 with the reason, and once space
// returns both recover by themselves and every acknowledged row is stored once.
// Mounting needs root (CI runs as root); elsewhere the suite is skipped with the reason.
const dir = mkdtempSync(join(tmpdir(), 'fe-diskfull-'));
let skipReason: string | undefined;
if (process.getuid?.() !== 0) skipReason = 'needs root to mount a small tmpfs';
else {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    skipReason = `cannot mount a tmpfs: ${(err as Error).message}`;
  }
}
if (skipReason) console.warn(`[disk-full] skipped: ${skipReason}`);

let svc: ServiceProcess | undefined;
afterAll(async () => {
  if (svc) expect(await svc.stop()).toBe(0);
  if (!skipReason) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  }
  rmdirSync(dir);
});

const rows = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => event({ event_id: `${prefix}_${i}`, feature_id: 'disk_full' }));

/** Writes until the filesystem refuses: big chunks, then pages, then bytes. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe.skipIf(skipReason !== undefined)('disk full', () => {
  it('answers 503 on ingest and on /v0/ready, loses nothing acknowledged, and recovers once space returns', async () => {
    // Batches wait 1.5 s, so the rows acknowledged just before the disk fills are inserted
    // only after it is full.
    svc = await startServiceProcess({ dataDir: dir, env: { BATCH_MAX_WAIT_MS: '1500' } });
    const s = svc;
    expect((await postEvents(s, ndjson(rows('before', 50)))).status).toBe(200);
    // Acknowledged (fsynced to the spool) just before the disk fills; inserted after.
    expect((await postEvents(s, ndjson(rows('racing', 50)), '')).status).toBe(202);
    const filler = join(dir, 'filler');
    fill(filler);

    const refused = await postEvents(s, ndjson(rows('refused', 300)), '');
    const body = (await refused.json()) as { error: string };
    expect(refused.status).toBe(503);
    expect(body.error).toMatch(/disk is full/);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    let ready = await fetch(`${s.baseUrl}/v0/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: string }).error).toMatch(/spool .*the disk is full \(ENOSPC\)/);
    // The acknowledged rows' insert keeps failing on the full disk: reported too, rows kept.
    let readyBody = { error: '', pending_rows: 0 };
    for (
      const until = Date.now() + 30_000;
      !/inserts are failing/.test(readyBody.error) && Date.now() < until;
    ) {
      await new Promise((r) => setTimeout(r, 200));
      ready = await fetch(`${s.baseUrl}/v0/ready`);
      readyBody = (await ready.json()) as typeof readyBody;
    }
    console.log(`[disk-full] /v0/ready while full: ${JSON.stringify(readyBody)}`);
    expect(ready.status).toBe(503);
    expect(readyBody.error).toMatch(/inserts are failing/);
    expect(readyBody.pending_rows).toBe(50);

    rmSync(filler);
    let status = 0;
    for (const until = Date.now() + 60_000; status !== 200 && Date.now() < until; ) {
      status = (await fetch(`${s.baseUrl}/v0/ready`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect((await postEvents(s, ndjson(rows('after', 50)))).status).toBe(200);

    let stored: { event_id: string; c: string }[] = [];
    for (const until = Date.now() + 30_000; Date.now() < until; ) {
      stored = await s.sql<{ event_id: string; c: string }>(
        "SELECT event_id, count() AS c FROM feature_events WHERE feature_id = 'disk_full' GROUP BY event_id",
      );
      if (stored.length >= 150) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ids = new Set(stored.map((r) => r.event_id));
    for (const prefix of ['before', 'racing', 'after'])
      for (let i = 0; i < 50; i++) expect(ids.has(`${prefix}_${i}`), `${prefix}_${i}`).toBe(true);
    expect(stored.filter((r) => r.event_id.startsWith('refused_'))).toEqual([]);
    expect(stored.filter((r) => Number(r.c) !== 1)).toEqual([]);
  }, 180_000);
});
