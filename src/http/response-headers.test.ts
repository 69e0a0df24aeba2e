import { Hono, type MiddlewareHandler } from 'hono';
import { describe, expect, it } from 'vitest';
import { addResponseHeaders, applyResponseHeaders, jsonReply } from './response-headers.js';

const adds =
  (headers: Record<string, string>): MiddlewareHandler =>
  async (c, next) => {
    addResponseHeaders(c, headers);
    await next();
    applyResponseHeaders(c);
  };

function app(): Hono {
  const a = new Hono();
  a.use('*', adds({ 'X-Request-Id': 'req-1' }));
  a.use('*', adds({ 'Access-Control-Allow-Origin': '*', 'X-RateLimit-Limit': '10' }));
  a.post('/reply', (c) => jsonReply(c, { successful_rows: 1 }, 202));
  a.get('/text', (c) => c.text('plain'));
  a.get('/forwarded', async () => Response.json({ ok: true }, { headers: { 'x-upstream': 'yes' } }));
  a.get('/throws', () => {
    throw new Error('boom');
  });
  a.onError((_err, c) => c.json({ error: 'internal' }, 500));
  return a;
}

describe('response headers', () => {
  it('puts every middleware header into a jsonReply, with its body and status', async () => {
    const res = await app().request('/reply', { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-request-id')).toBe('req-1');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('x-ratelimit-limit')).toBe('10');
    expect(await res.json()).toEqual({ successful_rows: 1 });
  });

  it('adds them to responses built any other way: c.text, a forwarded Response, the error handler', async () => {
    for (const path of ['/text', '/forwarded', '/throws']) {
      const res = await app().request(path);
      expect(res.headers.get('x-request-id'), path).toBe('req-1');
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(res.headers.get('x-ratelimit-limit'), path).toBe('10');
    }
    const forwarded = await app().request('/forwarded');
    expect(forwarded.headers.get('x-upstream')).toBe('yes');
    expect(await forwarded.json()).toEqual({ ok: true });
    expect((await app().request('/throws')).status).toBe(500);
  });
});
