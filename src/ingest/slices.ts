/**
 * A large NDJSON body cut at line ends into slices of about `maxBytes` (views, no copies), so
 * a bulk upload (up to 10 x MAX_BODY_BYTES) is parsed and handed to the queue a slice at a
 * time: the event loop serves other requests between slices, and only one slice's parsed
 * rows are held at once. A line longer than `maxBytes` is a slice of its own.
 *
 * Only for bodies that are NDJSON from their first line (`isNdjson`): one JSON document
 * spread over several lines must be parsed whole.
 */
export function ndjsonSlices(body: Buffer, maxBytes: number): Buffer[] {
  const slices: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    if (body.length - start <= maxBytes) {
      slices.push(body.subarray(start));
      break;
    }
    // The last line end inside the slice, else the first one after it.
    let end = body.lastIndexOf(0x0a, start + maxBytes - 1);
    if (end < start) end = body.indexOf(0x0a, start + maxBytes);
    if (end < 0) {
      slices.push(body.subarray(start));
      break;
    }
    slices.push(body.subarray(start, end + 1));
    start = end + 1;
  }
  return slices;
}

/** Is the body NDJSON: is its first non-blank line a complete JSON object? */
export function isNdjson(body: Buffer): boolean {
  let from = 0;
  while (from < body.length) {
    let end = body.indexOf(0x0a, from);
    if (end < 0) end = body.length;
    const line = body.subarray(from, end).toString('utf8').trim();
    if (line !== '') {
      if (!line.startsWith('{')) return false;
      try {
        JSON.parse(line);
        return true;
      } catch {
        return false;
      }
    }
    from = end + 1;
  }
  return false;
}
