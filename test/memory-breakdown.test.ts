import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { anonBreakdown } from '../scripts/bench/anon-maps.js';
import { CHDB_MALLOC_CONF } from '../src/service/chdb-allocator.js';
import { freePort } from './helpers/service.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const vma = (start: number, end: number, perms: string, anonKb: number, tail = '0') =>
  `${start.toString(16)}-${end.toString(16)} ${perms} 00000000 00:00 ${tail}\nSize: ${(end - start) / 1024} kB\nRss: ${anonKb} kB\nAnonymous: ${anonKb} kB\nVmFlags: rd wr\n`;
const MiB = 1024 * 1024;

describe('the map of anonymous memory (scripts/bench/anon-maps.ts)', () => {
  it('tells glibc arenas, thread stacks, [heap], library copies and other maps apart', () => {
    const arena = 64 * MiB * 4;
    const smaps = [
      vma(0x1000000, 0x3000000, 'rw-p', 10 * 1024, '0                  [heap]'),
      vma(0x7000000, 0x7001000, 'r--p', 0, '1234                /lib/libchdb.so'),
      vma(0x7001000, 0x7201000, 'rw-p', 1024, '1234                /lib/libchdb.so'),
      // an arena: 64 MiB-aligned, its rw part and its reserved rest make 64 MiB
      vma(arena, arena + 8 * MiB, 'rw-p', 5 * 1024),
      vma(arena + 8 * MiB, arena + 64 * MiB, '---p', 0),
      // a thread: a 4 KiB guard, then an 8 MiB stack
      vma(arena + 100 * MiB, arena + 100 * MiB + 4096, '---p', 0),
      vma(arena + 100 * MiB + 4096, arena + 108 * MiB, 'rw-p', 64),
      // a big mapping (a V8 space or jemalloc extents) after a big reservation: not a stack
      vma(arena + 200 * MiB, arena + 300 * MiB, '---p', 0),
      vma(arena + 300 * MiB, arena + 301 * MiB, 'rw-p', 1024),
      vma(arena + 400 * MiB, arena + 480 * MiB, 'rw-p', 70 * 1024),
    ].join('');
    expect(anonBreakdown(smaps)).toEqual({
      AnonBrkHeap: 10,
      AnonGlibcArenas: 5,
      AnonThreadStacks: 0.1,
      ThreadStacks: 1,
      AnonOtherSmall: 1,
      AnonOtherMid: 0,
      AnonOtherLarge: 70,
      AnonStack: 0,
      AnonInFileMaps: 1,
      AnonTotal: 87.1,
    });
  });
});

describe('the jemalloc options `npm start` gives chDB', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fe-malloc-'));
  let proc: ChildProcess | undefined;
  afterAll(async () => {
    if (proc?.pid && proc.exitCode === null) {
      const exited = new Promise((r) => proc?.once('exit', r));
      process.kill(-proc.pid, 'SIGTERM'); // npm, its shell and the service: our own group
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are written in the launch commands, an operator’s own JE_MALLOC_CONF after ours', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    for (const name of ['start', 'consumer'])
      expect(scripts[name]).toContain(
        `JE_MALLOC_CONF="${CHDB_MALLOC_CONF}\${JE_MALLOC_CONF:+,$JE_MALLOC_CONF}"`,
      );
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain(
      `ENV JE_MALLOC_CONF=${CHDB_MALLOC_CONF}`,
    );
  });

  it('reach chDB’s jemalloc in the service npm start runs, with an operator’s option added', async () => {
    const port = await freePort();
    const token = `p.malloc_${Math.random().toString(36).slice(2)}`;
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      TB_ADMIN_TOKEN: token,
      JE_MALLOC_CONF: 'muzzy_decay_ms:0',
    };
    proc = spawn('npm', ['run', '--silent', 'start'], { cwd: ROOT, env, detached: true, stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/v0/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (i > 900 || proc.exitCode !== null) throw new Error('the service did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await fetch(`${base}/v0/sql`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: 'SELECT stats FROM system.jemalloc_stats FORMAT JSON',
    });
    expect(res.status).toBe(200);
    const stats = ((await res.json()) as { data: { stats: string }[] }).data[0]?.stats ?? '';
    // jemalloc's stats name the variable without its prefix.
    expect(stats).toContain(`Environment variable MALLOC_CONF: "${CHDB_MALLOC_CONF},muzzy_decay_ms:0"`);
    const ms = CHDB_MALLOC_CONF.match(/dirty_decay_ms:(\d+)/)?.[1];
    expect(stats).toContain(`opt.dirty_decay_ms: ${ms} `);
  });
});
