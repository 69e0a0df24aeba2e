import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectInsertsInvalidateCache } from './helpers/pipe-cache-check.js';
import { type ServiceProcess, startServiceProcess } from './helpers/service.js';

// Embedded mode, the default: the result cache is on and this process makes every insert.
// (Kafka mode runs the same check in kafka-service.test.ts.)
let svc: ServiceProcess;
beforeAll(async () => {
  svc = await startServiceProcess();
});
afterAll(async () => {
  await svc?.stop();
});

describe('pipe result cache, embedded mode', () => {
  it('serves no answer older than the rows stored by a POST that returned', async () => {
    await expectInsertsInvalidateCache(svc, 'embedded');
  });
});
