import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { TokenStore } from '../auth/index.js';
import { rateLimit, UNLIMITED } from './rate-limit.js';

function app(limit: number, now: () => number) {
  const tokens = new TokenStore([
    { name: 'a', token: 'tok_a', scopes: [{ type: 'ADMIN' }] },
    { name: 'b', token: 'tok_b', scopes: [{ type: 'ADMIN' }] },
  ]);
  const a = new Hono();
  a.use('*', rateLimit({ limit, windowSeconds: 10, tokens, now }));
  a.get('/x', (c) => c.json({ ok: true }));
  return a;
}

describe('rateLimit', () => {
  it('counts per token, sends the X-RateLimit headers, and answers 429 with Retry-After past the limit', async () => {
    let t = 1_000_000;
    const a = app(3, () => t);
    const get = (token: string) => a.request('/x', { headers: { Authorization: `Bearer ${token}` } });
    const first = await get('tok_a');
    expect(first.status).toBe(200);
    expect(first.headers.get('X-RateLimit-Limit')).toBe('3');
    expect(first.headers.get('X-RateLimit-Remaining')).toBe('2');
    expect(first.headers.get('X-RateLimit-Reset')).toBe('10');
    await get('tok_a');
    expect((await get('tok_a')).headers.get('X-RateLimit-Remaining')).toBe('0');
    t += 4000;
    const limited = await get('tok_a');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('6');
    expect(limited.headers.get('X-RateLimit-Reset')).toBe('6');
    expect(((await limited.json()) as { error: string }).error).toMatch(/Too many requests/);
    // another token has its own budget
    expect((await get('tok_b')).status).toBe(200);
    // a new window starts after the reset
    t += 6000;
    expect((await get('tok_a')).status).toBe(200);
    // ?token= is counted like the header
    expect((await a.request('/x?token=tok_b')).headers.get('X-RateLimit-Remaining')).toBe('1');
  });

  it('lets unknown or missing tokens through (they get 401/403 downstream); with no limit, still sends the headers', async () => {
    const a = app(1, () => 0);
    for (let i = 0; i < 5; i++) expect((await a.request('/x')).headers.get('X-RateLimit-Limit')).toBeNull();
    const off = app(0, () => 0);
    for (let i = 0; i < 5; i++) {
      const res = await off.request('/x', { headers: { Authorization: 'Bearer tok_a' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('X-RateLimit-Limit')).toBe(String(UNLIMITED));
      expect(res.headers.get('X-RateLimit-Remaining')).toBe(String(UNLIMITED - i - 1));
      expect(res.headers.get('X-RateLimit-Reset')).toBe('10');
    }
  });
});
