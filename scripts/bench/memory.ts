/**
 * Where the service's memory is, in MiB, from three accounts of it: the kernel's
 * (/proc/<pid>/status: RssAnon, allocated memory, and RssFile, the mapped chDB library),
 * Node's (/metrics: the V8 heap, external buffers, the spool's waiting bytes) and chDB's
 * (system.metrics: MemoryTracking, all memory its allocations track, caches included, and
 * each cache). What RssAnon holds beyond Node's heap, external and MemoryTracking is the
 * allocators' own (freed but not returned pages, thread stacks, untracked allocations).
 * A figure that cannot be read is left out: a breakdown must not fail a run.
 */
import { readFileSync } from 'node:fs';
import { anonBreakdown } from './anon-maps.js';
import { request, type Service, sleep } from './lib.js';

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** The kernel's account: VmRSS, VmHWM, RssAnon, RssFile (MiB) and the thread count. */
export function procMemory(pid: number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = line.match(/^(VmRSS|VmHWM|RssAnon|RssFile):\s+(\d+) kB/);
      if (m) out[m[1] as string] = Math.round(Number(m[2]) / 1024);
      const t = line.match(/^Threads:\s+(\d+)/);
      if (t) out.Threads = Number(t[1]);
    }
  } catch {
    // the process is gone
  }
  return out;
}

const NODE_METRICS: Record<string, string> = {
  nodejs_heap_size_used_bytes: 'NodeHeapUsed',
  nodejs_heap_size_total_bytes: 'NodeHeapTotal',
  nodejs_external_memory_bytes: 'NodeExternal',
  queue_pending_bytes: 'SpoolPending',
};

/** Node's account, from the service's /metrics (prom-client's default process metrics). */
export async function nodeMemory(svc: Service): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const r = await request(svc.baseUrl, 'GET', '/metrics', svc.token, undefined, 5_000);
    for (const line of r.body.split('\n')) {
      const m = line.match(
        /^\w*?(nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes|queue_pending_bytes)(?:\{[^}]*\})? ([\d.e+]+)$/,
      );
      if (m) out[NODE_METRICS[m[1] as string] as string] = mib(Number(m[2]));
      // V8's spaces, committed (new space's semi-spaces, code, large objects beside old space).
      const s = line.match(/^\w*?nodejs_heap_space_size_total_bytes\{space="(\w+)"\} ([\d.e+]+)$/);
      if (s) out[`V8Space_${s[1]}`] = mib(Number(s[2]));
    }
  } catch {
    // no figures this time
  }
  return out;
}

/** chDB's account: MemoryTracking, its caches, and primary keys held in memory. */
export async function chdbMemory(svc: Service): Promise<Record<string, number>> {
  try {
    const rows = await svc.sql<{ metric: string; value: number }>(
      `SELECT metric, toFloat64(value) AS value FROM system.metrics
       WHERE metric IN ('MemoryTracking', 'MarkCacheBytes', 'PrimaryIndexCacheBytes', 'UncompressedCacheBytes',
                        'IndexMarkCacheBytes', 'QueryCacheBytes', 'QueryConditionCacheBytes', 'PageCacheBytes',
                        'CompiledExpressionCacheBytes')
       UNION ALL SELECT 'PrimaryKeyBytesInMemory', toFloat64(sum(primary_key_bytes_in_memory)) FROM system.parts WHERE active`,
    );
    return Object.fromEntries(rows.map((r) => [r.metric, mib(Number(r.value))]));
  } catch {
    return {};
  }
}

/**
 * chDB's tracked memory and the part of it running work holds: queries (an insert with its
 * materialized views among them) and background merges.
 */
async function chdbWorkMemory(svc: Service): Promise<Record<string, number>> {
  try {
    const [r] = await svc.sql<{ t: number; q: number; m: number }>(
      `SELECT (SELECT toFloat64(value) FROM system.metrics WHERE metric = 'MemoryTracking') AS t,
              (SELECT toFloat64(sum(memory_usage)) FROM system.processes WHERE query NOT LIKE '%system.processes%') AS q,
              (SELECT toFloat64(sum(memory_usage)) FROM system.merges) AS m`,
    );
    return {
      MemoryTracking: mib(Number(r?.t ?? 0)),
      ChdbQueries: mib(Number(r?.q ?? 0)),
      ChdbMerges: mib(Number(r?.m ?? 0)),
    };
  } catch {
    return {};
  }
}

/**
 * chDB's allocator: chDB links jemalloc (`system.build_options` USE_JEMALLOC=1; its symbols are
 * hidden, so Node's own malloc stays glibc's). What it has allocated, the pages it keeps
 * resident (allocated + its metadata + freed pages not yet returned: `dirty`, returned after
 * `dirty_decay_ms`) and what it has mapped, from malloc_stats_print.
 */
export async function jemallocMemory(svc: Service): Promise<Record<string, number>> {
  try {
    const [r] = await svc.sql<{ stats: string }>('SELECT stats FROM system.jemalloc_stats');
    const text = r?.stats ?? '';
    const out: Record<string, number> = {};
    const a = text.match(
      /Allocated: (\d+), active: (\d+), metadata: (\d+).*?resident: (\d+), mapped: (\d+), retained: (\d+)/,
    );
    if (a) {
      out.JemallocAllocated = mib(Number(a[1]));
      out.JemallocActive = mib(Number(a[2]));
      out.JemallocMetadata = mib(Number(a[3]));
      out.JemallocResident = mib(Number(a[4]));
      out.JemallocMapped = mib(Number(a[5]));
    }
    // Merged arenas' dirty pages (freed, still resident until decay purges them).
    const d = text.match(/Merged arenas stats:[\s\S]*?\n\s+dirty:\s+\S+\s+(\d+)/);
    if (d) out.JemallocDirty = mib(Number(d[1]) * 4096);
    return out;
  } catch {
    return {};
  }
}

/** The kernel's map of anonymous memory (scripts/bench/anon-maps.ts), MiB. */
export function anonMaps(pid: number | undefined): Record<string, number> {
  try {
    return anonBreakdown(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * RssAnon (`AnonTotal`, read with the map) split by owner, from the figures above: chDB's jemalloc (resident), V8's heap
 * (committed spaces), thread stacks, private copies of library pages, glibc's arenas (Node's malloc: external buffers, libuv,
 * and what glibc keeps after free), and what is left (`AnonUnattributed`: other mmaps, e.g.
 * glibc's direct mmaps of big buffers, V8's code range). Left out if a part is missing.
 */
export function attribute(s: Record<string, number>): Record<string, number> {
  const parts = [
    s.AnonTotal,
    s.JemallocResident,
    s.NodeHeapTotal,
    s.AnonThreadStacks,
    s.AnonGlibcArenas,
    s.AnonBrkHeap,
  ];
  if (parts.some((p) => p === undefined)) return {};
  const glibc = (s.AnonGlibcArenas ?? 0) + (s.AnonBrkHeap ?? 0);
  const rest =
    (s.AnonTotal ?? 0) -
    (s.JemallocResident ?? 0) -
    (s.NodeHeapTotal ?? 0) -
    (s.AnonThreadStacks ?? 0) -
    (s.AnonInFileMaps ?? 0) -
    glibc;
  return { AnonGlibc: Math.round(glibc * 10) / 10, AnonUnattributed: Math.round(rest * 10) / 10 };
}

/** The costly figures (smaps, jemalloc's stats): taken when the RSS reaches a new high. */
async function detail(svc: Service): Promise<Record<string, number>> {
  // jemalloc's stats come through a chDB query, which may wait behind an insert: the map and
  // Node's figures are read after it, so the parts attributed are of one moment.
  const je = await jemallocMemory(svc);
  const node = await nodeMemory(svc);
  return { ...node, ...anonMaps(svc.proc.pid), ...je };
}

/** All three accounts now. */
export async function memoryNow(svc: Service): Promise<Record<string, number>> {
  const [node, chdb, work, more] = await Promise.all([
    nodeMemory(svc),
    chdbMemory(svc),
    chdbWorkMemory(svc),
    detail(svc),
  ]);
  const s = { ...procMemory(svc.proc.pid), ...node, ...chdb, ...work, ...more };
  return { ...s, ...attribute(s) };
}

/**
 * Samples the service every `everyMs` until stop(): the highest value of each figure, and
 * every figure at the sample with the highest VmRSS (what made up the peak). The map of
 * anonymous memory and jemalloc's stats are read only at a sample that sets a new high.
 */
export function memorySampler(svc: Service, everyMs = 1_000) {
  const peak: Record<string, number> = {};
  let atPeak: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const [node, tracked] = await Promise.all([nodeMemory(svc), chdbWorkMemory(svc)]);
      const s: Record<string, number> = { ...procMemory(svc.proc.pid), ...node, ...tracked };
      if ((s.VmRSS ?? 0) > (atPeak.VmRSS ?? -1)) {
        Object.assign(s, await detail(svc));
        atPeak = { ...s, ...attribute(s) };
      }
      for (const [k, v] of Object.entries(s)) peak[k] = Math.max(peak[k] ?? 0, v);
      await sleep(everyMs);
    }
  })();
  return {
    async stop(): Promise<{ peak: Record<string, number>; atPeak: Record<string, number> }> {
      running = false;
      await loop;
      return { peak, atPeak };
    },
  };
}

/** peak and at-peak figures as flat keys for memory_breakdown_mb: peak_<figure>, at_peak_<figure>. */
export function flatPeaks(p: { peak: Record<string, number>; atPeak: Record<string, number> }) {
  return {
    ...Object.fromEntries(Object.entries(p.peak).map(([k, v]) => [`peak_${k}`, v])),
    ...Object.fromEntries(Object.entries(p.atPeak).map(([k, v]) => [`at_peak_${k}`, v])),
  };
}
