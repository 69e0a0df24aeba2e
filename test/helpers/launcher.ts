import { afterAll } from 'vitest';
import { type ServiceProcess, startServiceProcess } from './service.js';

/**
 * A test file's launcher that remembers what it started: `start` is startServiceProcess, and
 * after the file (afterAll) every process it started is SIGKILLed, so a failed test leaves
 * none holding a port or chDB's lock; then `after` runs (a mock broker's stop).
 */
export function launcher(after?: () => Promise<void> | undefined) {
  const running: ServiceProcess[] = [];
  afterAll(async () => {
    for (const s of running) await s.kill();
    await after?.();
  });
  return {
    async start(opts: Parameters<typeof startServiceProcess>[0] = {}): Promise<ServiceProcess> {
      const s = await startServiceProcess(opts);
      running.push(s);
      return s;
    },
  };
}
