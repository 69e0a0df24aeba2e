/**
 * Point lookups that arrive while every reader is busy run as ONE query (issue 15; the
 * "batch while busy" pattern the loader's BatchWriter uses for inserts). Why: on 2 cores a
 * lookup costs 6-23 ms of chDB CPU, most of it per query (index analysis and a granule read
 * per part), so one query per request cannot reach 500 req/s; one `user_id IN (...)` query
 * for 16 users cost 2.3-5x less CPU than 16 queries (scripts/bench/coalesce-cost.ts), while a
 * UNION ALL of the 16 unchanged queries saved under 7%: hence a batch node per pipe (tag
 * "coalesce:<param>:<node>", compile.ts) rather than a generic rewrite.
 *
 * While fewer than `slots` queries run, a request runs alone at once (no added latency).
 * Otherwise it waits with the others of its group (same pipe, same SQL, same parameters but
 * the key); when a query ends, the group waiting longest runs as one batch of up to maxBatch
 * keys and the answer is cut back per request (batch-answer.ts). The first request of a group
 * always runs alone: its answer is the shape the batch's answers are checked against. If the
 * batch fails, or cannot answer a member as its solo query would, those members run alone, so
 * each gets its own answer or its own error. A key the batch found at its LIMIT (its solo
 * rows_before_limit_at_least is unknown) is remembered and from then on waits to run alone.
 */
import { AT_LIMIT, type SoloShape, soloShape, splitBatch } from './batch-answer.js';

export interface LookupJob {
  /** The pipe's name (for metrics). */
  pipe: string;
  /** Same pipe, SQL and parameters except the key: members that may share a batch. */
  group: string;
  key: string;
  /** The member's LIMIT (rows per key in the batch); Infinity when it has none. */
  limit: number;
  /** Runs the request alone: its FORMAT JSON body. */
  solo: () => Promise<string>;
  /** Runs the group's batch node for these keys: its FORMAT JSON body. */
  batch: (keys: string[]) => Promise<string>;
}

interface Waiting {
  job: LookupJob;
  resolve: (body: string) => void;
  reject: (err: unknown) => void;
}

export interface ReadCoalescerOptions {
  /** Queries run side by side before requests wait (the reader sessions). */
  slots: number;
  /** Keys in one batch at most. */
  maxBatch?: number;
  /** Groups whose solo shape is remembered, and keys known to reach their LIMIT (oldest go first). */
  maxShapes?: number;
  /** After each batch: its pipe and how many requests it answered (the /metrics counters). */
  onBatch?: (pipe: string, answered: number) => void;
}

/** The queue of requests that run alone (keys known to reach their LIMIT): never batched. */
const ALONE = '\u0000alone';

export class ReadCoalescer {
  private running = 0;
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly shapes = new Map<string, SoloShape>();
  /** group + key of members a batch found at their LIMIT: they would be answered alone anyway. */
  private readonly atLimit = new Set<string>();
  private readonly maxBatch: number;
  private readonly maxShapes: number;
  /** Batches run and requests they answered (for tests and metrics). */
  batches = 0;
  coalesced = 0;

  constructor(private readonly options: ReadCoalescerOptions) {
    this.maxBatch = options.maxBatch ?? 16;
    this.maxShapes = options.maxShapes ?? 1_000;
  }

  answer(job: LookupJob): Promise<string> {
    if (this.running < this.options.slots) return this.occupy(() => this.solo(job));
    // (A popular user's page is at its LIMIT every time: a batch would only delay it.)
    const name = this.atLimit.has(`${job.group}\n${job.key}`) ? ALONE : job.group;
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(name) ?? [];
      queue.push({ job, resolve, reject });
      this.waiting.set(name, queue);
    });
  }

  private async occupy<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.next();
    }
  }

  /** A slot freed: the group waiting longest (Map order: first queued first) runs, as one batch when it can. */
  private next(): void {
    const first = this.waiting.entries().next();
    if (first.done) return;
    const [group, queue] = first.value;
    const shape = group === ALONE ? undefined : this.shapes.get(group);
    const take = shape ? queue.splice(0, this.maxBatch) : queue.splice(0, 1);
    this.waiting.delete(group);
    // The rest of the group queues again at the back: other groups get their turn.
    if (queue.length > 0) this.waiting.set(group, queue);
    const settle = (w: Waiting, p: Promise<string>) => p.then(w.resolve, w.reject);
    if (!shape || take.length === 1) {
      const w = take[0] as Waiting;
      void this.occupy(() => settle(w, this.solo(w.job)));
      return;
    }
    void this.occupy(() => this.runBatch(shape, take, settle));
  }

  private async solo(job: LookupJob): Promise<string> {
    const body = await job.solo();
    if (!this.shapes.has(job.group)) {
      const shape = soloShape(body);
      if (shape) {
        this.shapes.set(job.group, shape);
        if (this.shapes.size > this.maxShapes) this.shapes.delete(this.shapes.keys().next().value as string);
      }
    }
    return body;
  }

  private remember(set: Set<string>, key: string): void {
    set.add(key);
    if (set.size > this.maxShapes) set.delete(set.values().next().value as string);
  }

  private async runBatch(
    shape: SoloShape,
    members: Waiting[],
    settle: (w: Waiting, p: Promise<string>) => Promise<void>,
  ): Promise<void> {
    const keys = [...new Set(members.map((m) => m.job.key))];
    let answers: Array<string | typeof AT_LIMIT | undefined> = members.map(() => undefined);
    try {
      const body = await (members[0] as Waiting).job.batch(keys);
      answers = splitBatch(
        body,
        members.map((m) => m.job),
        shape,
      );
      this.batches++;
    } catch {
      // Some member's values, or the batch as a whole, failed: each runs alone below.
    }
    let answered = 0;
    const settled = Promise.all(
      members.map((m, i) => {
        const body = answers[i];
        if (body === AT_LIMIT) this.remember(this.atLimit, `${m.job.group}\n${m.job.key}`);
        if (typeof body !== 'string') return settle(m, m.job.solo());
        answered++;
        return settle(m, Promise.resolve(body));
      }),
    );
    this.coalesced += answered;
    if (answered > 0) this.options.onBatch?.((members[0] as Waiting).job.pipe, answered);
    await settled;
  }
}
