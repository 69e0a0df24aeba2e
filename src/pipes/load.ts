import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { compilePipe, type Pipe, type TableColumns } from './compile.js';
import { parseDatafile } from './datafile.js';
import type { PipeLoadError } from './errors.js';

/**
 * Reads every pipes/*.pipe file. A broken file is reported (file, line, what is wrong)
 * and skipped, so one mistake never takes the other endpoints down.
 */
export function loadPipes(
  dir: string,
  options: { tables?: TableColumns } = {},
): { pipes: Map<string, Pipe>; errors: PipeLoadError[] } {
  const pipes = new Map<string, Pipe>();
  const errors: PipeLoadError[] = [];
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.pipe'))
      .sort();
  } catch (err) {
    return {
      pipes,
      errors: [{ file: dir, line: 0, message: `cannot read the pipes directory: ${(err as Error).message}` }],
    };
  }
  for (const f of files) {
    const file = join(dir, f);
    const name = f.slice(0, -'.pipe'.length);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      errors.push({ file, line: 0, message: `bad pipe name "${name}": use letters, digits and _` });
      continue;
    }
    try {
      const include = (path: string) => readFileSync(resolve(dirname(file), path), 'utf8');
      pipes.set(
        name,
        compilePipe(name, file, parseDatafile(readFileSync(file, 'utf8'), { include }), options.tables),
      );
    } catch (err) {
      const e = err as Error & { line?: number };
      errors.push({ file, line: e.line ?? 0, message: e.message });
    }
  }
  return { pipes, errors };
}

/** One line per problem, as printed at start: "pipes/x.pipe:12: unknown template function foo()". */
export function formatLoadErrors(errors: PipeLoadError[]): string {
  return errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n');
}
