import { type FileHandle, mkdir, open, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { type DecodedRecord, decodeRecords } from './record.js';

export interface Position {
  segment: number;
  start: number;
  end: number;
}

interface PendingWrite {
  record: Buffer;
  onWritten: (position: Position) => void;
  resolve: () => void;
  reject: (err: Error) => void;
}

// Segments are rotated at this size so fully inserted ones can be deleted.
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export const segmentName = (n: number) => `${String(n).padStart(12, '0')}.spool`;

/**
 * An append-only, fsynced log of records on local disk (the embedded mode's queue).
 * Concurrent appends are group-committed: every record waiting while one write+fsync
 * runs goes out in the next single write+fsync, so throughput does not pay one fsync
 * per request.
 */
export class SpoolLog {
  private handle?: FileHandle;
  private segment = 1;
  private size = 0;
  private queue: PendingWrite[] = [];
  private writing = false;

  constructor(
    readonly dir: string,
    private readonly segmentBytes = DEFAULT_SEGMENT_BYTES,
  ) {}

  /** The segment new records go to. */
  get currentSegment(): number {
    return this.segment;
  }

  /** Lists segment numbers present on disk, oldest first. */
  async segments(): Promise<number[]> {
    await mkdir(this.dir, { recursive: true });
    return (await readdir(this.dir))
      .filter((f) => f.endsWith('.spool'))
      .map((f) => Number.parseInt(f, 10))
      .sort((a, b) => a - b);
  }

  /**
   * Reads the intact records of a segment from `from`. A torn tail (only possible in the
   * newest segment, from a crash mid-write) is cut off so new appends follow valid data.
   */
  async read(segment: number, from: number): Promise<DecodedRecord[]> {
    const path = join(this.dir, segmentName(segment));
    const bytes = await readFile(path);
    const { records, validEnd } = decodeRecords(bytes.subarray(from), from);
    if (validEnd < bytes.length) await truncate(path, validEnd);
    return records;
  }

  /**
   * The records between two record boundaries of a segment, written and fsynced earlier
   * (the loader reads back rows it did not keep in memory). Throws if any is not intact.
   */
  async readRange(segment: number, start: number, end: number): Promise<DecodedRecord[]> {
    const handle = await open(join(this.dir, segmentName(segment)), 'r');
    try {
      const bytes = Buffer.allocUnsafe(end - start);
      for (let got = 0; got < bytes.length; ) {
        const { bytesRead } = await handle.read(bytes, got, bytes.length - got, start + got);
        if (bytesRead === 0) throw new Error(`spool segment ${segment} ends before byte ${end}`);
        got += bytesRead;
      }
      const { records, validEnd } = decodeRecords(bytes, start);
      if (validEnd !== end) throw new Error(`spool segment ${segment}: no intact record at byte ${validEnd}`);
      return records;
    } finally {
      await handle.close();
    }
  }

  /** Opens the newest segment (or `atLeast`, if newer) for appending. */
  async openForAppend(atLeast: number): Promise<void> {
    const existing = await this.segments();
    this.segment = Math.max(atLeast, existing.at(-1) ?? 1);
    await this.openSegment(this.segment);
  }

  private async openSegment(segment: number): Promise<void> {
    await this.handle?.close();
    this.handle = await open(join(this.dir, segmentName(segment)), 'a');
    this.size = (await this.handle.stat()).size;
    this.segment = segment;
  }

  /**
   * Appends a record; onWritten runs (in append order) once it is on disk, before the
   * returned promise resolves.
   */
  append(record: Buffer, onWritten: (position: Position) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, onWritten, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      try {
        if (!this.handle) throw new Error('spool is not open');
        if (this.size > 0 && this.size >= this.segmentBytes) await this.openSegment(this.segment + 1);
        const bytes = Buffer.concat(group.map((w) => w.record));
        const handle = this.handle as FileHandle;
        let written = 0;
        while (written < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
          written += bytesWritten;
        }
        await handle.datasync();
        let pos = this.size;
        for (const w of group) {
          const end = pos + w.record.length;
          w.onWritten({ segment: this.segment, start: pos, end });
          pos = end;
        }
        this.size = pos;
        for (const w of group) w.resolve();
      } catch (err) {
        // Cut off whatever part of the group reached the file: none of it is acknowledged.
        await this.handle?.truncate(this.size).catch(() => {});
        for (const w of group) w.reject(err as Error);
      }
    }
    this.writing = false;
  }

  /** Deletes segments older than `segment`: all their records are in ClickHouse. */
  async deleteBefore(segment: number): Promise<void> {
    for (const s of await this.segments()) {
      if (s < segment) await rm(join(this.dir, segmentName(s)), { force: true });
    }
  }

  async close(): Promise<void> {
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
    await this.handle?.close();
    this.handle = undefined;
  }
}
