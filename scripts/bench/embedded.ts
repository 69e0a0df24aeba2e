/**
 * The embedded-mode stage: one service, stage by stage. At the first size: NDJSON ingest,
 * single events and freshness; every later size is bulk-loaded. At each size: the floor and
 * every pipe (pipes.ts). At the largest: the dashboard's first visit, bytes on disk
 * (storage.ts), chDB's memory and the process's peak RSS.
 */
import { rmSync } from 'node:fs';
import { makeGenerator } from '../generate-events.js';
import { type DashboardRun, measureDashboard } from './dashboard.js';
import { type FloorRun, pipesWithFloor } from './floor.js';
import { BATCH_ROWS, bulkLoad, freshness, ingestBatches, ingestSingles, makeBatches } from './ingest.js';
import { type CpuSpan, cpuSpan, currentRssMb, log, peakRssMb, ROOT, sleep, startService } from './lib.js';
import { flatPeaks, memoryNow, memorySampler } from './memory.js';
import type { AnyPipe } from './params.js';
import { measurePipes, type PipeRun } from './pipes.js';
import type { Plan } from './plan.js';
import { measureStorage, type StorageRun } from './storage.js';

export interface EmbeddedStage {
  ingest_eps: number;
  single_eps: number;
  /** The service's CPU per event and the machine's load during each (lib.ts cpuSpan). */
  ingest_cpu: { ndjson?: CpuSpan; single?: CpuSpan };
  freshness: { p50: number; p95: number; n: number };
  /** Events/s of the last bulk-loaded stage (full runs only). */
  bulk_load_eps?: number;
  pipesBySize: Record<string, Record<AnyPipe, PipeRun>>;
  floorBySize: Record<string, FloorRun>;
  dashboard: DashboardRun | { skipped: string };
  events_in_store: number;
  storage: StorageRun;
  memory: Record<string, number>;
  rss_peak_mb: number;
  rss_now_mb: number;
}

export async function measureEmbedded(deps: {
  plan: Plan;
  tmp: (prefix: string) => string;
  cleanups: Array<() => Promise<void>>;
  /** Told each service's log, to print if the run fails. */
  serviceOutputs: Array<() => string>;
}): Promise<EmbeddedStage> {
  const { plan } = deps;
  const P = plan.sizes;
  log('embedded mode: starting the service');
  // PROJECT_DIR adds the SELECT 1 floor pipe (floor.ts) to the service's own pipes.
  const project = pipesWithFloor(ROOT);
  deps.cleanups.push(async () => rmSync(project, { recursive: true, force: true }));
  const svc = await startService(deps.tmp('fe-bench-emb-'), { PROJECT_DIR: project });
  deps.cleanups.push(() => svc.stop());
  deps.serviceOutputs.push(svc.output);
  const pid = svc.proc.pid;
  // What made up the peak RSS (it comes while loading): sampled through the whole stage.
  const sampler = memorySampler(svc, 2_000);
  deps.cleanups.push(async () => void (await sampler.stop()));
  let rssPeak = 0;
  const pipesBySize: EmbeddedStage['pipesBySize'] = {};
  const floorBySize: EmbeddedStage['floorBySize'] = {};
  let ingestEps = 0;
  let singleEps = 0;
  const ingestCpu: EmbeddedStage['ingest_cpu'] = {};
  let fresh = { p50: Number.NaN, p95: Number.NaN, n: 0 };
  let bulkEps: number | undefined;
  for (let s = 0; s < P.stages.length; s++) {
    const gen = plan.stageGen(s);
    if (s === 0) {
      log(`generating ${P.ingestRows.toLocaleString('en')} events in ${BATCH_ROWS}-row NDJSON batches`);
      const batches = makeBatches(gen, P.ingestRows, BATCH_ROWS);
      const ndjsonCpu = cpuSpan(pid);
      ingestEps = await ingestBatches(svc, 'NDJSON x1000 embedded', batches, P.ingestRows);
      ingestCpu.ndjson = ndjsonCpu(P.ingestRows);
      log(`  NDJSON: ${JSON.stringify(ingestCpu.ndjson)}`);
      if (P.ingestRows < plan.stageRows(0)) await bulkLoad(svc, gen, plan.stageRows(0), P.ingestRows);
      const singleCpu = cpuSpan(pid);
      singleEps = await ingestSingles(
        svc,
        P.singleEvents,
        makeGenerator({ seed: 7, plannedRows: P.singleEvents, endMs: plan.endMs, users: P.users }),
      );
      ingestCpu.single = singleCpu(P.singleEvents);
      log(`  single events: ${JSON.stringify(ingestCpu.single)}`);
      fresh = await freshness(svc, P.freshnessSamples, 'embedded');
      rssPeak = Math.max(rssPeak, peakRssMb(pid));
    } else {
      bulkEps = await bulkLoad(svc, gen, plan.stageRows(s), 0);
    }
    const size = P.stages[s] as number;
    await sleep(1_000);
    const run = await measurePipes(svc, plan.stageGen(s), plan.endMs, size, P);
    floorBySize[size] = run.floor;
    pipesBySize[size] = run.pipes;
    rssPeak = Math.max(rssPeak, peakRssMb(pid));
  }
  log('dashboard: first visit in Chromium at the largest stage');
  const dashboard = await measureDashboard(svc.baseUrl, svc.token).catch((err: Error) => ({
    skipped: err.message,
  }));
  log(`dashboard: ${JSON.stringify(dashboard)}`);
  const eventsInStore = await svc.count();
  // Give background merges a moment, then read sizes.
  await sleep(plan.mode === 'quick' ? 2_000 : 10_000);
  const storage = await measureStorage(svc, eventsInStore);
  rssPeak = Math.max(rssPeak, peakRssMb(pid));
  const memory = { ...(await memoryNow(svc)), ...flatPeaks(await sampler.stop()) };
  const rssNow = currentRssMb(pid);
  log(
    `store: ${eventsInStore.toLocaleString('en')} events, ${storage.bytes_per_event} bytes/event, peak RSS ${rssPeak} MB`,
  );
  await svc.stop();
  return {
    ingest_eps: ingestEps,
    single_eps: singleEps,
    ingest_cpu: ingestCpu,
    freshness: fresh,
    bulk_load_eps: bulkEps,
    pipesBySize,
    floorBySize,
    dashboard,
    events_in_store: eventsInStore,
    storage,
    memory,
    rss_peak_mb: rssPeak,
    rss_now_mb: rssNow,
  };
}
