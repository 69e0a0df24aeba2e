import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signJwt, verifyJwt } from './jwt.js';

const ADMIN = 'admin-secret-token';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const claims = () => ({
  name: 'acme',
  exp: inAnHour(),
  scopes: [{ type: 'PIPES:READ' as const, resource: 'events', fixed_params: { account_id: 'acc_1' } }],
  limits: { rps: 5 },
});

describe('JWT read tokens', () => {
  it('round-trips name, scopes, fixed params and rps', async () => {
    const t = await verifyJwt(await signJwt(claims(), ADMIN), ADMIN);
    expect(t.name).toBe('acme');
    expect(t.scopes).toEqual([{ type: 'PIPES:READ', resource: 'events' }]);
    expect(t.fixedParams.get('events')).toEqual({ account_id: 'acc_1' });
    expect(t.rps).toBe(5);
  });

  it('refuses a token signed with another secret, an expired one, and one without exp', async () => {
    await expect(verifyJwt(await signJwt(claims(), 'not-the-admin'), ADMIN)).rejects.toThrow(/Invalid JWT/);
    await expect(verifyJwt(await signJwt({ ...claims(), exp: 1_000_000 }, ADMIN), ADMIN)).rejects.toThrow(
      /expired/,
    );
    const noExp = await new SignJWT({ name: 'x', scopes: claims().scopes })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(ADMIN));
    await expect(verifyJwt(noExp, ADMIN)).rejects.toThrow(/Invalid JWT/);
  });

  it('refuses a tampered payload and the "none" algorithm', async () => {
    const good = await signJwt(claims(), ADMIN);
    const [h, , s] = good.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims(), scopes: [{ type: 'PIPES:READ', resource: 'events' }] }),
    ).toString('base64url');
    await expect(verifyJwt(`${h}.${forgedPayload}.${s}`, ADMIN)).rejects.toThrow(/Invalid JWT/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forgedPayload}.`;
    await expect(verifyJwt(none, ADMIN)).rejects.toThrow(/Invalid JWT/);
  });

  it('refuses scopes other than PIPES:READ', async () => {
    const admin = await new SignJWT({ name: 'x', scopes: [{ type: 'ADMIN' }] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(inAnHour())
      .sign(new TextEncoder().encode(ADMIN));
    await expect(verifyJwt(admin, ADMIN)).rejects.toThrow(/PIPES:READ/);
  });
});
