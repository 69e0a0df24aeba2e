import type { Server } from 'node:http';
import type { serve as honoServe } from '@hono/node-server';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { Log } from '../log/index.js';
import { metricsRoute } from './metrics-route.js';

/**
 * METRICS_PORT: /metrics alone, without a token, on its own port. For scrapers inside the
 * network (a Prometheus that should not hold an API token); keep the port off the public
 * side (METRICS_HOST=127.0.0.1, or a firewall / Kubernetes port not exposed by the Service).
 */
export async function startMetricsListener(opts: {
  port: number;
  host: string;
  registry: Registry;
  serve: typeof honoServe;
  log: Log;
}): Promise<{ close(): Promise<void> }> {
  const app = new Hono();
  app.route('/metrics', metricsRoute({ registry: opts.registry }));
  app.notFound((c) => c.json({ error: 'Not found: this port serves GET /metrics only' }, 404));
  const server = await new Promise<Server>((resolve, reject) => {
    const s = opts.serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () =>
      resolve(s as Server),
    );
    s.once('error', reject);
  });
  opts.log('info', 'metrics listening', { port: opts.port, host: opts.host });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
