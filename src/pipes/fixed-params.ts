import type { Token } from '../auth/index.js';
import type { RequestParams } from './params.js';

/**
 * A JWT read token's fixed_params for this pipe replace the caller's values of the same
 * names, whatever the caller sent (query string or body, one value or many).
 */
export function applyFixedParams(request: RequestParams, token: Token, pipe: string): void {
  const fixed = (token as { fixedParams?: Map<string, Record<string, unknown>> }).fixedParams?.get(pipe);
  if (!fixed) return;
  for (const [name, value] of Object.entries(fixed)) {
    request.set(name, Array.isArray(value) ? value.map(String) : [String(value)]);
  }
}
