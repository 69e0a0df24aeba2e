import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Context } from 'hono';
import { accepts } from 'hono/accepts';
import { COMPRESSIBLE_CONTENT_TYPE_REGEX } from 'hono/utils/compress';

const gzipAsync = promisify(gzip);
/** hono/compress's default: smaller answers go out as they are. */
const THRESHOLD_BYTES = 1024;

/**
 * gzip of pipe answers, made once per answer object, for clients that accept it (fetch-based
 * clients such as Tinybird's SDKs send Accept-Encoding: gzip on every call). Why: a cached
 * answer is the same object on every hit (the result cache's entry; concatMemo's bytes), and
 * hono/compress would compress it again for each request: at 32 clients that cut a cached
 * 72 kB summary to 0.36x the requests per second of the same calls without gzip
 * (scripts/bench/gzip-hits.ts). Entries go with their answer (WeakMap). Returns undefined
 * when the answer goes out as it is (small, or the client did not ask for gzip); hono/compress
 * still handles every other response. The same answers are compressed as it would: over 1 KiB,
 * of a content type it compresses.
 */
export function gzipOnce(): (
  c: Context,
  answer: object,
  body: string | Uint8Array,
  contentType: string,
) => Promise<Uint8Array<ArrayBuffer>> | undefined {
  const zipped = new WeakMap<object, Promise<Uint8Array<ArrayBuffer>>>();
  return (c, answer, body, contentType) => {
    if (body.length < THRESHOLD_BYTES || !COMPRESSIBLE_CONTENT_TYPE_REGEX.test(contentType)) return undefined;
    if (accepts(c, { header: 'Accept-Encoding', supports: ['gzip'], default: 'identity' }) !== 'gzip')
      return undefined;
    let done = zipped.get(answer);
    if (!done) {
      done = gzipAsync(body).then(
        (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength) as Uint8Array<ArrayBuffer>,
      );
      // A failure is not remembered: the next request tries again.
      done.catch(() => zipped.delete(answer));
      zipped.set(answer, done);
    }
    return done;
  };
}
