/**
 * Rendered pipes, remembered by their request. Why: rendering a pipe (checking every
 * parameter, walking the template) costs 0.2-0.7 ms of the one main thread, measured on this
 * 2-core machine, more than a cached answer's whole trip; and the result cache's key is the
 * rendered SQL, so even a cache hit paid it. A render depends only on the pipe and the
 * request (templates write now() into the SQL, they never evaluate it), so equal requests
 * render equally. Failed renders are not kept (they throw). Least recently used go first.
 */
import { type Pipe, renderPipe } from './compile.js';
import type { RequestParams } from './params.js';
import type { Rendered } from './render.js';

/** `secrets` (tb_secret values) are fixed for the process, so they are not part of the key. */
export function renderMemo(secrets?: ReadonlyMap<string, string>, maxEntries = 2_000) {
  const entries = new Map<string, Rendered>();
  return (pipe: Pipe, request: RequestParams, options: { exporting?: boolean } = {}): Rendered => {
    const key = `${pipe.name}\n${options.exporting ? 1 : 0}\n${JSON.stringify([...request])}`;
    const hit = entries.get(key);
    if (hit) {
      entries.delete(key);
      entries.set(key, hit);
      return hit;
    }
    const rendered = renderPipe(pipe, request, { ...options, secrets });
    entries.set(key, rendered);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    return rendered;
  };
}
