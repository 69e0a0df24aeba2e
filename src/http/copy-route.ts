import type { Context } from 'hono';
import type { TokenStore } from '../auth/index.js';
import type { CopyJob } from '../project/copy.js';
import { authorize } from './auth.js';
import { DOCS, jsonError } from './errors.js';

/**
 * POST /v0/pipes/<name>/copy: runs a copy pipe now (Tinybird's on-demand copy), with the
 * query string as its parameters; ADMIN only, as it writes. Answers when the copy is done.
 */
export function copyRoute(deps: {
  copies: () => ReadonlyMap<string, CopyJob> | undefined;
  tokens: TokenStore;
}) {
  return async (c: Context) => {
    const auth = authorize(c, deps.tokens, 'ADMIN', '', DOCS.pipes);
    if (!auth.ok) return auth.response;
    const name = c.req.param('pipe') ?? '';
    const job = deps.copies()?.get(name);
    if (!job) return jsonError(c, 404, `"${name}" is not a copy pipe`, DOCS.pipes);
    const params = new Map<string, string[]>();
    for (const [k, v] of new URL(c.req.url).searchParams)
      if (k !== 'token') params.set(k, [...(params.get(k) ?? []), v]);
    try {
      const { rows } = await job.run(params);
      return c.json({ job: { kind: 'copy', status: 'done', pipe_name: name, datasource: job.target, rows } });
    } catch (err) {
      return jsonError(
        c,
        400,
        `The copy ${name} failed: ${(err as Error).message.split('\n')[0]}`,
        DOCS.pipes,
      );
    }
  };
}
