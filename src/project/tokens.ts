import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Scope, Token } from '../auth/index.js';
import type { Project } from './load.js';

/**
 * The tokens a project's TOKEN lines ask for: `TOKEN "x" READ` in a pipe grants
 * PIPES:READ:<pipe>, in a datasource DATASOURCES:READ:<ds>; `TOKEN "x" APPEND` in a
 * datasource grants DATASOURCES:APPEND:<ds>. One token per name gathers all its scopes.
 * Values are generated once and kept in `file`, so clients keep working across restarts.
 */
export function projectTokens(project: Project, file: string): Token[] {
  const scopes = new Map<string, Scope[]>();
  const grant = (name: string, scope: Scope) => scopes.set(name, [...(scopes.get(name) ?? []), scope]);
  for (const ds of project.datasources) {
    for (const t of ds.tokens)
      grant(t.name, {
        type: t.scope === 'APPEND' ? 'DATASOURCES:APPEND' : 'DATASOURCES:READ',
        resource: ds.name,
      });
  }
  for (const p of project.pipes) {
    for (const t of p.df.tokens)
      if (t.scope === 'READ') grant(t.name, { type: 'PIPES:READ', resource: p.name });
  }
  let saved: Record<string, string> = {};
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    // first start with this project: values are generated below
  }
  const values = { ...saved };
  for (const name of scopes.keys()) values[name] ??= `p.${randomBytes(24).toString('base64url')}`;
  if (Object.keys(values).length !== Object.keys(saved).length) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
  }
  return [...scopes].map(([name, s]) => ({ name, token: values[name] as string, scopes: s }));
}
