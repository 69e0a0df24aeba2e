import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const DOCS = {
  events: 'https://www.tinybird.co/docs/api-reference/events-api',
  pipes: 'https://www.tinybird.co/docs/api-reference/pipe-api',
  tokens: 'https://www.tinybird.co/docs/api-reference/token-api',
} as const;

/** Every error a user sees: JSON {"error", "documentation"} with the right status, never a stack. */
export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  error: string,
  documentation: string = DOCS.events,
  headers?: Record<string, string>,
) {
  return c.json({ error, documentation }, status, headers);
}
