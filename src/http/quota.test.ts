import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { TokenStore } from '../auth/index.js';
import { Quotas } from '../quota/quotas.js';
import { countIngestedRows, countPipeRequests } from './quota.js';

function setup(mode: 'soft' | 'hard') {
  const tokens = new TokenStore([
    { name: 'reader', token: 't', scopes: [{ type: 'PIPES:READ', resource: 'p' }] },
  ]);
  const quotas = new Quotas({
    defaults: { pipe_requests_daily: 2, rows_ingested_daily: 5 },
    perToken: {},
    mode,
    file: join(mkdtempSync(join(tmpdir(), 'fe-quota-mw-')), 'log'),
  });
  const warnings: unknown[] = [];
  const log = (_level: string, msg: string, fields?: unknown) => warnings.push([msg, fields]);
  const app = new Hono();
  app.use('/pipes/*', countPipeRequests(tokens, quotas, log));
  app.get('/pipes/:file', (c) => c.json({ ok: true }));
  app.use('/events', countIngestedRows(tokens, quotas, log));
  app.post('/events', (c) => c.json({ successful_rows: 3, quarantined_rows: 1 }, 202));
  const auth = { headers: { Authorization: 'Bearer t' } };
  return { app, quotas, warnings, auth };
}

describe('quota middleware', () => {
  it('soft mode answers past the limit, says so in a header and warns', async () => {
    const { app, quotas, warnings, auth } = setup('soft');
    const statuses: number[] = [];
    const headers: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await app.request('/pipes/p.json', auth);
      statuses.push(r.status);
      headers.push(r.headers.get('x-quota-exceeded'));
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(headers).toEqual([null, 'pipe_requests_daily', 'pipe_requests_daily', 'pipe_requests_daily']);
    expect(quotas.state('reader', 'pipe_requests_daily').current).toBe(4);
    expect(warnings.length).toBe(3);
  });

  it('counts rows from the successful_rows of accepted answers only', async () => {
    const { app, quotas, auth } = setup('hard');
    expect((await app.request('/events', { method: 'POST', ...auth })).status).toBe(202);
    expect(quotas.state('reader', 'rows_ingested_daily').current).toBe(3);
    expect((await app.request('/events', { method: 'POST', ...auth })).status).toBe(202);
    expect((await app.request('/events', { method: 'POST', ...auth })).status).toBe(429);
    expect(quotas.state('reader', 'rows_ingested_daily').current).toBe(6);
    // An unknown token is left to the route's own 401/403.
    expect((await app.request('/pipes/p.json', { headers: { Authorization: 'Bearer nope' } })).status).toBe(
      200,
    );
  });
});
