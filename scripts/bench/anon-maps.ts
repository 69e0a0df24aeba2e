/**
 * The kernel's view of a process's anonymous memory, by the kind of mapping that holds it
 * (/proc/<pid>/smaps), so RssAnon can be split without help from the allocators:
 *
 * - `AnonBrkHeap`: glibc's main arena ([heap], grown with brk).
 * - `AnonGlibcArenas`: glibc's other arenas (malloc from threads): 64 MiB-aligned mappings
 *   that, with the reserved (---p) rest after them, make 64 MiB.
 * - `AnonThreadStacks`: a rw mapping right after a small (≤ 64 KiB) ---p guard, the way
 *   pthread lays out a thread's stack; `ThreadStacks` counts them.
 * - `AnonOther`: the rest — V8's heap pages, chDB's jemalloc extents, large mmaps — split
 *   by the size of the mapping (`AnonOtherSmall` < 2 MiB, `AnonOtherMid` < 64 MiB,
 *   `AnonOtherLarge` ≥ 64 MiB).
 * - `AnonInFileMaps`: private copies of file pages (a library's relocated data), which the
 *   kernel counts in RssAnon too.
 * - `AnonTotal`: all of the above, RssAnon at the moment the map was read.
 * Figures in MiB of anonymous resident pages (smaps' `Anonymous`). Pure (takes the file's text) so it can be tested.
 */
const GUARD_MAX = 64 * 1024;
const ARENA = 64 * 1024 * 1024;

interface Vma {
  start: number;
  end: number;
  perms: string;
  anon: boolean;
  name: string;
  /** Anonymous pages (for a file mapping: its private copies, e.g. a library's relocated data). */
  anonKb: number;
}

function parseSmaps(text: string): Vma[] {
  const vmas: Vma[] = [];
  let cur: Vma | undefined;
  for (const line of text.split('\n')) {
    const h = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$/);
    if (h) {
      const name = (h[5] ?? '').trim();
      cur = {
        start: Number.parseInt(h[1] as string, 16),
        end: Number.parseInt(h[2] as string, 16),
        perms: h[3] as string,
        anon: h[4] === '0' && (name === '' || name.startsWith('[')),
        name,
        anonKb: 0,
      };
      vmas.push(cur);
      continue;
    }
    const r = line.match(/^Anonymous:\s+(\d+) kB/);
    if (r && cur) cur.anonKb = Number(r[1]);
  }
  return vmas;
}

export function anonBreakdown(smaps: string): Record<string, number> {
  const vmas = parseSmaps(smaps);
  const kb: Record<string, number> = {
    AnonBrkHeap: 0,
    AnonGlibcArenas: 0,
    AnonThreadStacks: 0,
    AnonOtherSmall: 0,
    AnonOtherMid: 0,
    AnonOtherLarge: 0,
    AnonStack: 0,
    AnonInFileMaps: 0,
  };
  let stacks = 0;
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i] as Vma;
    if (!v.anon) {
      kb.AnonInFileMaps = (kb.AnonInFileMaps ?? 0) + v.anonKb;
      continue;
    }
    if (v.perms.startsWith('---')) continue;
    const prev = vmas[i - 1];
    const next = vmas[i + 1];
    const size = v.end - v.start;
    if (v.name === '[heap]') kb.AnonBrkHeap = (kb.AnonBrkHeap ?? 0) + v.anonKb;
    else if (v.name === '[stack]') kb.AnonStack = (kb.AnonStack ?? 0) + v.anonKb;
    else if (v.name.startsWith('[') && v.name !== '[anon]' && !v.name.startsWith('[anon:'))
      continue; // vdso, vvar
    else if (
      v.start % ARENA === 0 &&
      (size === ARENA ||
        (next?.anon && next.perms.startsWith('---') && next.start === v.end && next.end - v.start === ARENA))
    )
      kb.AnonGlibcArenas = (kb.AnonGlibcArenas ?? 0) + v.anonKb;
    else if (
      prev?.anon &&
      prev.perms.startsWith('---') &&
      prev.end === v.start &&
      prev.end - prev.start <= GUARD_MAX &&
      size <= 16 * 1024 * 1024
    ) {
      kb.AnonThreadStacks = (kb.AnonThreadStacks ?? 0) + v.anonKb;
      stacks++;
    } else if (size < 2 * 1024 * 1024) kb.AnonOtherSmall = (kb.AnonOtherSmall ?? 0) + v.anonKb;
    else if (size < ARENA) kb.AnonOtherMid = (kb.AnonOtherMid ?? 0) + v.anonKb;
    else kb.AnonOtherLarge = (kb.AnonOtherLarge ?? 0) + v.anonKb;
  }
  kb.AnonTotal = Object.values(kb).reduce((a, b) => a + b, 0);
  const out = Object.fromEntries(Object.entries(kb).map(([k, v]) => [k, Math.round((v / 1024) * 10) / 10]));
  return { ...out, ThreadStacks: stacks };
}
