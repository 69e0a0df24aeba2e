import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Datafile, type PipeLoadError, parseDatafile } from '../pipes/index.js';
import { type DatasourceFile, parseDatasourceFile } from './datasource-file.js';

/** The shipped project (pipes/): what an unset PROJECT_DIR means. */
const SHIPPED_PROJECT_DIR = fileURLToPath(new URL('../../pipes', import.meta.url));

/** The project directory the configuration names. */
export const projectDirOf = (config: { PROJECT_DIR?: string }): string =>
  config.PROJECT_DIR ?? SHIPPED_PROJECT_DIR;

/** A .pipe file of a project, parsed; its TYPE decides who serves it. */
export interface ProjectPipe {
  name: string;
  file: string;
  df: Datafile;
  /** endpoint (or no TYPE), materialized, copy. */
  kind: 'endpoint' | 'materialized' | 'copy';
}

export interface Project {
  dir: string;
  datasources: DatasourceFile[];
  pipes: ProjectPipe[];
  errors: PipeLoadError[];
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (entry.startsWith('.') || entry === 'node_modules') continue;
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

function kindOf(df: Datafile): ProjectPipe['kind'] {
  const typed = df.nodes.find((n) => n.type && n.type !== 'endpoint');
  if (typed?.type === 'materialized') return 'materialized';
  if (typed?.type === 'copy') return 'copy';
  return 'endpoint';
}

/**
 * Reads a Tinybird project: every .datasource and .pipe file under `dir`, in any folder
 * (Tinybird's datasources/, endpoints/, materializations/, copies/, pipes/ or flat). A
 * broken file is reported with its line and skipped; the rest loads.
 */
export function loadProject(dir: string): Project {
  const project: Project = { dir, datasources: [], pipes: [], errors: [] };
  let files: string[];
  try {
    files = walk(dir);
  } catch (err) {
    project.errors.push({
      file: dir,
      line: 0,
      message: `cannot read the project directory: ${(err as Error).message}`,
    });
    return project;
  }
  for (const file of files) {
    const isPipe = file.endsWith('.pipe');
    if (!isPipe && !file.endsWith('.datasource')) continue;
    const name = basename(file).replace(/\.(pipe|datasource)$/, '');
    try {
      const text = readFileSync(file, 'utf8');
      if (!isPipe) {
        project.datasources.push(parseDatasourceFile(name, text));
        continue;
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw Object.assign(new Error(`bad pipe name "${name}"`), { line: 0 });
      const include = (path: string) => readFileSync(resolve(dirname(file), path), 'utf8');
      const df = parseDatafile(text, { include });
      project.pipes.push({ name, file, df, kind: kindOf(df) });
    } catch (err) {
      const e = err as Error & { line?: number };
      project.errors.push({ file, line: e.line ?? 0, message: e.message });
    }
  }
  return project;
}
