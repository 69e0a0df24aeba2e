/**
 * Starts scripts/bench/singles-server.ts (the write path's pieces, or `bare`: Hono reading the
 * body and answering 202) as its own process, for singles-cost.ts and budget.ts to drive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, ROOT, type Service } from './lib.js';

export interface Harness {
  svc: Service;
  stop(): Promise<void>;
}

/** `profDir`: the harness writes a V8 CPU profile there (node --cpu-prof). */
export async function startHarness(
  spec: string,
  dir: string,
  token: string,
  profDir?: string,
): Promise<Harness> {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      '--import',
      'tsx',
      'scripts/bench/singles-server.ts',
      String(port),
      dir,
      spec,
      token,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`singles-server ${spec} exited ${code}`)));
  });
  const svc = { baseUrl: `http://127.0.0.1:${port}`, token, proc } as unknown as Service;
  return {
    svc,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
