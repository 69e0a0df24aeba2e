/** A query's whole answer as bytes (result streams of @clickhouse/client's exec): binary formats stay intact. */
export async function readBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A query's whole answer as text (result streams of @clickhouse/client's exec). */
export async function readText(stream: NodeJS.ReadableStream): Promise<string> {
  return (await readBytes(stream)).toString('utf8');
}
