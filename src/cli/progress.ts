/**
 * Progress of a long command on stderr, so stdout stays clean for what a script reads.
 * On a terminal one line is redrawn; elsewhere (logs, tests) a line is written at most every
 * `everyMs`, and always at the end.
 */
export function progressReporter(
  label: string,
  opts: { everyMs?: number; stream?: NodeJS.WriteStream } = {},
): { update(text: string): void; done(text: string): void } {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const everyMs = opts.everyMs ?? (tty ? 200 : 2_000);
  const started = Date.now();
  let last = 0;
  const secs = () => ((Date.now() - started) / 1000).toFixed(1);
  return {
    update(text) {
      const now = Date.now();
      if (now - last < everyMs) return;
      last = now;
      stream.write(tty ? `\r${label}: ${text} (${secs()} s)\x1b[K` : `${label}: ${text} (${secs()} s)\n`);
    },
    done(text) {
      stream.write(`${tty ? '\r' : ''}${label}: ${text} (${secs()} s)${tty ? '\x1b[K' : ''}\n`);
    },
  };
}

/** 1536 -> "1.5 KiB": sizes as people read them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
