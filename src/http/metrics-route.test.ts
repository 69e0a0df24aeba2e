import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/service.js';
import { parseScope, TokenStore } from '../auth/index.js';
import { silentLog } from '../log/index.js';
import { createMetrics } from '../metrics/registry.js';
import { createApp } from './app.js';
import { startMetricsListener } from './metrics-listener.js';

const tokens = new TokenStore([
  { name: 'admin', token: 'admin-token-123', scopes: [{ type: 'ADMIN' }] },
  { name: 'prometheus', token: 'scrape-token-123', scopes: [parseScope('METRICS:READ')] },
  { name: 'reader', token: 'pipes-token-123', scopes: [parseScope('PIPES:READ:p')] },
]);

function app() {
  return createApp({
    state: { ready: false, startedAt: Date.now() },
    tokens,
    datasources: new Set(['feature_events']),
    maxBodyBytes: 1 << 20,
    log: silentLog,
    metrics: createMetrics({ defaultMetrics: false }),
  });
}

describe('GET /metrics on the API port', () => {
  it('answers 401 without a token and 403 to a token without METRICS:READ', async () => {
    const a = app();
    expect((await a.request('/metrics')).status).toBe(401);
    expect(
      (await a.request('/metrics', { headers: { Authorization: 'Bearer nope-nope-nope' } })).status,
    ).toBe(403);
    const denied = await a.request('/metrics?token=pipes-token-123');
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: string }).error).toContain('METRICS:READ');
  });

  it('serves the Prometheus text format to METRICS:READ and ADMIN tokens, by header or ?token=', async () => {
    const a = app();
    const cases: Array<{ path: string; headers: Record<string, string> }> = [
      { path: '/metrics', headers: { Authorization: 'Bearer scrape-token-123' } },
      { path: '/metrics?token=admin-token-123', headers: {} },
    ];
    for (const init of cases) {
      const res = await a.request(init.path, { headers: init.headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const body = await res.text();
      expect(body).toContain('# TYPE feature_events_http_requests_total counter');
      expect(body).toContain('# TYPE feature_events_events_accepted_total counter');
    }
  });

  it('parses METRICS:READ in TB_TOKENS and refuses a resource after it', () => {
    expect(parseScope('METRICS:READ')).toEqual({ type: 'METRICS:READ' });
    expect(() => parseScope('METRICS:READ:x')).toThrow(/METRICS:READ/);
  });
});

describe('METRICS_PORT listener', () => {
  it('serves /metrics without a token, and nothing else', async () => {
    const port = await freePort();
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.eventsAccepted.inc({ datasource: 'feature_events' }, 3);
    const listener = await startMetricsListener({
      port,
      host: '127.0.0.1',
      registry: metrics.registry,
      serve,
      log: silentLog,
    });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(
        'feature_events_events_accepted_total{datasource="feature_events"} 3',
      );
      expect((await fetch(`http://127.0.0.1:${port}/v0/events`)).status).toBe(404);
    } finally {
      await listener.close();
    }
  });
});
