import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

export class BodyError extends Error {
  override name = 'BodyError';
  constructor(
    message: string,
    readonly status: 400 | 413 | 415,
  ) {
    super(message);
  }
}

// A gzip body may expand to this many times the request limit before we give up: real
// NDJSON compresses about 10x, a zip bomb far more.
const MAX_EXPANSION = 20;

/**
 * Reads the request body as bytes, enforcing the size limit before buffering it all,
 * and un-gzips it when Content-Encoding says gzip or the bytes start with gzip's magic
 * number (Tinybird sniffs too).
 */
export async function readBody(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const raw = await readRaw(request, declared, maxBytes);
  const encoding = (request.headers.get('content-encoding') ?? '').toLowerCase().trim();
  if (encoding && encoding !== 'gzip' && encoding !== 'identity') {
    throw new BodyError(`Unsupported Content-Encoding "${encoding}": send gzip or no encoding`, 415);
  }
  const gzipped = encoding === 'gzip' || (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b);
  if (!gzipped) return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxBytes * MAX_EXPANSION });
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ||
      /larger than/.test((err as Error).message)
    ) {
      throw new BodyError(`Decompressed body is larger than ${maxBytes * MAX_EXPANSION} bytes`, 413);
    }
    throw new BodyError(`Body is not valid gzip: ${(err as Error).message}`, 400);
  }
}

/**
 * The body's bytes. With a declared length within the limit (the common case) the whole
 * body is read in one call: the HTTP parser delivers exactly that many bytes, and on
 * @hono/node-server arrayBuffer() reads the socket directly instead of building a web
 * ReadableStream. Without one (chunked), the stream is read with the limit checked on
 * every chunk.
 */
async function readRaw(request: Request, declared: number, maxBytes: number): Promise<Buffer> {
  if (Number.isSafeInteger(declared) && declared >= 0 && !request.headers.has('transfer-encoding')) {
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return Buffer.from(bytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(
    `Request body is larger than ${maxBytes} bytes (${Math.round(maxBytes / 1024 / 1024)} MB): split it into several requests`,
    413,
  );
}
