/**
 * Why this process cannot store rows right now, by cause (the spool's disk, ClickHouse
 * inserts, Kafka). /v0/ready answers 503 with the reasons while any is set. Each cause is
 * cleared by the next success of what failed, or by its probe: a full disk that a load
 * balancer stopped sending traffic to would otherwise never be seen to recover.
 */
export class StoreHealth {
  private readonly problems = new Map<string, { reason: string; probe?: () => Promise<void> }>();
  private readonly watches = new Map<string, () => string | undefined>();
  private probing?: Promise<void>;

  /** A cause read from live state on every check (a reason, or undefined when fine). */
  watch(cause: string, reason: () => string | undefined): void {
    this.watches.set(cause, reason);
  }

  fail(cause: string, reason: string, probe?: () => Promise<void>): void {
    this.problems.set(cause, { reason, probe });
  }

  ok(cause: string): void {
    this.problems.delete(cause);
  }

  /**
   * A batch insert failed for the `attempt`-th time in a row (from 1). One failure is
   * routine (the retry usually succeeds); INSERT_FAILURES_UNREADY in a row mean storage is down.
   */
  insertFailed(attempt: number, err: unknown): void {
    if (attempt < INSERT_FAILURES_UNREADY) return;
    const message = String((err as Error)?.message ?? err)
      .replace(/\s+/g, ' ')
      .slice(0, 300);
    this.fail('inserts', `inserts are failing (${attempt} attempts in a row): ${message}`);
  }

  /** The reasons, after running the probes of the causes that have one (one probe run at a time). */
  async check(): Promise<string[]> {
    const probes = [...this.problems].filter(([, p]) => p.probe);
    if (probes.length > 0) {
      this.probing ??= (async () => {
        for (const [cause, p] of probes) {
          try {
            await p.probe?.();
            if (this.problems.get(cause) === p) this.problems.delete(cause);
          } catch {
            // still failing
          }
        }
      })().finally(() => {
        this.probing = undefined;
      });
      await this.probing;
    }
    const watched = [...this.watches.values()].map((w) => w()).filter((r): r is string => r !== undefined);
    return [...[...this.problems.values()].map((p) => p.reason), ...watched];
  }
}

export const INSERT_FAILURES_UNREADY = 3;
