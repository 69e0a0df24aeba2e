import { join } from 'node:path';
import type { TokenStore } from '../auth/index.js';
import type { Admin } from '../clickhouse/reader.js';
import { tableColumns } from '../clickhouse/table-columns.js';
import type { WriteGeneration } from '../clickhouse/write-generation.js';
import type { Log } from '../log/index.js';
import { compilePipe, linkPipes, type Pipe, type PipeLoadError } from '../pipes/index.js';
import { applyDatasources, applyMaterialized } from './apply.js';
import { type CopyJob, copyJob, scheduleCopies } from './copy.js';
import type { DatasourceFile } from './datasource-file.js';
import { loadProject } from './load.js';
import { projectTokens } from './tokens.js';

export { ProjectApplyError } from './apply.js';
export { loadProject, projectDirOf } from './load.js';

export interface RunningProject {
  /** Endpoint pipes, served by the Pipes API. */
  pipes: Map<string, Pipe>;
  /** The project's datasources (their Events API: projectEvents). */
  datasources: Map<string, DatasourceFile>;
  copies: Map<string, CopyJob>;
  errors: PipeLoadError[];
  stop(): void;
}

/**
 * Brings a Tinybird project up at start, like migrations: its datasources' tables (refusing
 * changes that lose data), its materialized views, its TOKEN lines as tokens, its copy
 * schedules; returns its endpoint pipes to serve. `feature_events` stays the migrations'.
 */
export async function startProject(opts: {
  dir: string;
  /** Schema changes and reads. */
  client: Admin;
  /** Writes go through here, so cached pipe answers are dropped after them. */
  writes: WriteGeneration;
  dataDir: string;
  tokens: TokenStore;
  log: Log;
}): Promise<RunningProject> {
  const project = loadProject(opts.dir);
  const errors = [...project.errors];
  const datasources = new Map(project.datasources.map((d) => [d.name, d]));
  if (datasources.has('feature_events'))
    errors.push({
      file: opts.dir,
      line: 0,
      message: 'feature_events is built in (clickhouse/*.sql): its .datasource is ignored',
    });
  datasources.delete('feature_events');
  const applied = await applyDatasources(opts.client, [...datasources.values()]);
  const views = await applyMaterialized(opts.client, project.pipes, new Set(datasources.keys()));
  opts.log('info', 'project applied', { dir: opts.dir, ...applied, views });
  for (const t of projectTokens(project, join(opts.dataDir, 'project-tokens.json'))) opts.tokens.add(t);
  const tables = await tableColumns(opts.client);
  const pipes = new Map<string, Pipe>();
  const copies = new Map<string, CopyJob>();
  for (const p of project.pipes) {
    try {
      if (p.kind === 'endpoint') pipes.set(p.name, compilePipe(p.name, p.file, p.df, tables));
      if (p.kind === 'copy') copies.set(p.name, copyJob(p, opts.client, tables, opts.writes.around));
    } catch (err) {
      const e = err as Error & { line?: number };
      errors.push({ file: p.file, line: e.line ?? 0, message: e.message });
    }
  }
  for (const e of linkPipes(pipes)) {
    errors.push({ ...e, line: 0 });
    pipes.delete(e.file.replace(/^.*\/|\.pipe$/g, ''));
  }
  const stop = scheduleCopies([...copies.values()], opts.log);
  return { pipes, datasources, copies, errors, stop };
}
