import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { DEFAULT_MAX_OLD_SPACE_MB, heapBudget, heapWarning } from './heap-budget.js';

const MiB = 1024 * 1024;
const root = new URL('../../', import.meta.url);
const flag = `--max-old-space-size=${DEFAULT_MAX_OLD_SPACE_MB}`;

describe('the heap limit the service starts with', () => {
  it('is the one npm start, npm run consumer and the Docker image pass', () => {
    const scripts = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts;
    // Before $NODE_OPTIONS, so an operator's own limit comes later and wins.
    for (const name of ['start', 'consumer'])
      expect(scripts[name]).toContain(`NODE_OPTIONS="${flag} $NODE_OPTIONS"`);
    expect(readFileSync(new URL('Dockerfile', root), 'utf8')).toContain(`ENV NODE_OPTIONS=${flag}`);
  });

  it('holds what the default bounds allow at once', () => {
    const defaults = loadConfig({});
    expect(heapBudget(defaults)).toBeLessThan(DEFAULT_MAX_OLD_SPACE_MB * MiB);
    expect(heapWarning(defaults, DEFAULT_MAX_OLD_SPACE_MB * MiB)).toBeUndefined();
  });

  it('warns, naming the settings, when the bounds outgrow the limit', () => {
    const big = loadConfig({ INGEST_MAX_INFLIGHT_BYTES: String(512 * MiB) });
    expect(heapWarning(big, DEFAULT_MAX_OLD_SPACE_MB * MiB)).toMatch(
      /heap limit is 384 MiB but the memory bounds allow ~\d+ MiB.*INGEST_MAX_INFLIGHT_BYTES.*--max-old-space-size/,
    );
  });
});
