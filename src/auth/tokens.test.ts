import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTokenList, resolveAdminToken, TokenStore } from './tokens.js';

describe('tokens', () => {
  it('parses scoped tokens and enforces scopes', () => {
    const tokens = parseTokenList('w:tw:DATASOURCES:APPEND:feature_events; r:tr:PIPES:READ:a,PIPES:READ:b');
    const store = new TokenStore(tokens);
    const w = store.find('tw');
    const r = store.find('tr');
    expect(w && store.allows(w, 'DATASOURCES:APPEND', 'feature_events')).toBe(true);
    expect(w && store.allows(w, 'PIPES:READ', 'a')).toBe(false);
    expect(r && store.allows(r, 'PIPES:READ', 'b')).toBe(true);
    expect(r && store.allows(r, 'PIPES:READ', 'c')).toBe(false);
  });

  it('rejects malformed entries', () => {
    expect(() => parseTokenList('only-a-name')).toThrow(/name:token:SCOPE/);
    expect(() => parseTokenList('n:t:PIPES:WRITE:x')).toThrow(/bad scope/);
  });

  it('generates an admin token once and keeps it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    const first = resolveAdminToken(undefined, dir);
    expect(first.generated).toBe(true);
    expect(resolveAdminToken(undefined, dir)).toEqual({ token: first.token, generated: false });
    expect(resolveAdminToken('given', dir)).toEqual({ token: 'given', generated: false });
  });
});
