import type { MiddlewareHandler } from 'hono';
import type { Metrics } from '../metrics/registry.js';
import { parsePipeFile } from '../pipes/formats.js';

const OUTCOMES: Record<string, string> = { HIT: 'hit', MISS: 'miss', BYPASS: 'bypass' };

/**
 * Pipe requests by pipe, status and cache outcome, and their duration. Mount on the pipes
 * app's `/:file`. The outcome is the X-Cache header the pipes route sets; an answer without
 * one (an error, a streamed export, a pipe's description) did not use the cache: `bypass`.
 * A name that is no loaded pipe counts as `unknown`, so a client cannot grow the label set.
 */
export function pipeMetrics(metrics: Metrics, pipes: ReadonlyMap<string, unknown>): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const { name } = parsePipeFile(c.req.param('file') ?? '', undefined);
    const pipe = pipes.has(name) ? name : 'unknown';
    const cache = OUTCOMES[c.res.headers.get('X-Cache') ?? ''] ?? 'bypass';
    metrics.pipeRequests.inc({ pipe, status: c.res.status, cache });
    metrics.pipeDuration.observe({ pipe, cache }, (performance.now() - started) / 1000);
  };
}
