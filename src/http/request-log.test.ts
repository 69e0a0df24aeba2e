import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenArb } from '../../test/helpers/token-arbitrary.js';
import { TokenStore } from '../auth/index.js';
import { createLog } from '../log/index.js';
import { createMetrics } from '../metrics/registry.js';
import { createApp } from './app.js';

/** The real app (not ready: no storage) with a log that keeps its lines. */
function appWithLog(token: string) {
  const lines: string[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const app = createApp({
    state: { ready: false, startedAt: Date.now() },
    tokens: new TokenStore([{ name: 'reader', token, scopes: [{ type: 'PIPES:READ', resource: 'p' }] }]),
    datasources: new Set(['feature_events']),
    maxBodyBytes: 1 << 20,
    log: createLog('debug', { write: (line: string) => lines.push(line) }),
    metrics,
  });
  return { app, lines, metrics };
}

const prefix = fc.constantFrom('/v0/events', '/v0/pipes', '/v0/sql', '/v0/datasources', '/metrics', '');
const how = fc.constantFrom('query', 'header', 'both');

describe('access log', () => {
  it('never writes the token, whatever the token, path, method and place it is sent in', async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenArb,
        prefix,
        fc.webPath(),
        fc.constantFrom('GET', 'POST'),
        how,
        async (token, base, path, method, where) => {
          const { app, lines } = appWithLog(token);
          const url = new URL(`http://localhost${base}${path}`);
          url.searchParams.set('name', 'feature_events');
          if (where !== 'header') url.searchParams.set('token', token);
          const headers: Record<string, string> =
            where === 'query' ? {} : { Authorization: `Bearer ${token}` };
          const res = await app.request(url.toString(), {
            method,
            headers,
            body: method === 'POST' ? '{}' : undefined,
          });
          await res.arrayBuffer();
          expect(lines.length).toBeGreaterThan(0);
          const forms = [
            token,
            encodeURIComponent(token),
            new URLSearchParams({ t: token }).toString().slice(2),
          ];
          for (const line of lines) for (const form of forms) expect(line).not.toContain(form);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes one JSON line per request with method, route pattern, status, duration and the request id it answers', async () => {
    const { app, lines } = appWithLog('p.some-long-token-value');
    const res = await app.request('/v0/pipes/my_pipe.json?token=p.some-long-token-value', {
      headers: { 'X-Request-Id': 'trace-42.a:b' },
    });
    expect(res.headers.get('X-Request-Id')).toBe('trace-42.a:b');
    const access = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      request_id: 'trace-42.a:b',
      method: 'GET',
      route: '/v0/pipes/*',
      url: '/v0/pipes/my_pipe.json?token=[redacted]',
      status: 503,
    });
    expect(typeof access[0].duration_ms).toBe('number');
  });

  it('answers a generated request id when the client sent none or an unsafe one', async () => {
    const { app } = appWithLog('p.some-long-token-value');
    const ids = new Set<string>();
    for (const sent of [undefined, 'has space', 'x'.repeat(500)]) {
      const res = await app.request('/v0/health', { headers: sent ? { 'X-Request-Id': sent } : {} });
      const id = res.headers.get('X-Request-Id') ?? '';
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(3);
  });

  it('labels the HTTP metrics with route patterns, never with the raw paths', async () => {
    await fc.assert(
      fc.asyncProperty(prefix, fc.webPath(), async (base, path) => {
        const { app, metrics } = appWithLog('p.some-long-token-value');
        await (await app.request(`${base}${path}`)).arrayBuffer();
        const { values } = (await metrics.httpRequests.get()) as {
          values: Array<{ labels: { route?: string } }>;
        };
        expect(values).toHaveLength(1);
        const route = values[0]?.labels.route ?? '';
        // A pattern registered in app.ts (or "unmatched"): the random path never becomes a label.
        const registered = new Set(app.routes.map((r) => r.path));
        expect(route === 'unmatched' || registered.has(route), route).toBe(true);
        expect(route).toMatch(/^(unmatched|\/[\w/*:{}.\\+-]*)$/);
      }),
      { numRuns: 100 },
    );
  });
});
