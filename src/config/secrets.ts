/** Prefix of the environment variables that hold tb_secret() values: TB_SECRET_<name>. */
export const SECRET_PREFIX = 'TB_SECRET_';

/**
 * Secrets for templates' tb_secret('name'): TB_SECRET_name=value in the environment, as
 * Tinybird Local reads secrets from its environment. Values are bound as query parameters,
 * never written into SQL text or logs.
 */
export function secretsFromEnv(env: NodeJS.ProcessEnv): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith(SECRET_PREFIX) && k.length > SECRET_PREFIX.length && v !== undefined)
      out.set(k.slice(SECRET_PREFIX.length), v);
  }
  return out;
}
