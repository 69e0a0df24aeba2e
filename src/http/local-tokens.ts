import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { jsonError } from './errors.js';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * GET /tokens, as Tinybird Local serves it: the CLI and SDKs pointed at a local server read
 * the tokens there instead of asking for one. Tinybird Local's workspace is its only one, so
 * every token named is the admin token. Answered only to this machine (loopback): the
 * admin token must never go to whoever can reach the port.
 */
export function localTokens(adminToken: string) {
  return (c: Context) => {
    let address: string | undefined;
    try {
      address = getConnInfo(c).remote.address;
    } catch {
      address = undefined; // not a Node socket (app.request in tests): nothing to trust
    }
    if (!address || !LOOPBACK.test(address)) {
      return jsonError(
        c,
        403,
        'GET /tokens answers only on this machine (127.0.0.1 or ::1); use GET /v0/tokens with the admin token',
      );
    }
    return c.json({ user_token: adminToken, admin_token: adminToken, workspace_admin_token: adminToken });
  };
}
