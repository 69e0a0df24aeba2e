import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Built by scripts/test-setup.sh (librdkafka's mock cluster; see mock-kafka.c). */
export const MOCK_KAFKA_BIN = fileURLToPath(new URL('../../scripts/mock-kafka/mock-kafka', import.meta.url));

export interface MockKafka {
  /** Comma-separated bootstrap list, the value for KAFKA_BROKERS. */
  brokers: string;
  /**
   * Sends one fault-injection command ("down 1", "up 1", "rtt 1 200",
   * "err <apikey> <errcode> <count>", "topic <name> <partitions>") and resolves when the
   * broker applied it; rejects on "error ...".
   */
  inject(cmd: string): Promise<void>;
  stop(): Promise<void>;
  /** The broker's process id (the bench reads its CPU time). */
  pid: number | undefined;
}

export interface MockKafkaOptions {
  /** Default partition count for every topic (default 3). */
  partitions?: number;
  /** Topics to create, "name" or "name:partitions" (default feature_events and its quarantine). */
  topics?: string[];
  /** Broker count (default 1); replication factor is min(3, brokers). */
  brokers?: number;
}

/** Starts a mock Kafka cluster in a child process; stop() ends it by closing its stdin. */
export async function startMockKafka(opts: MockKafkaOptions = {}): Promise<MockKafka> {
  if (!existsSync(MOCK_KAFKA_BIN)) {
    throw new Error(`${MOCK_KAFKA_BIN} is missing: run "bash scripts/test-setup.sh" first`);
  }
  const topics = opts.topics ?? ['feature_events', 'feature_events_quarantine'];
  const proc = spawn(MOCK_KAFKA_BIN, [String(opts.brokers ?? 1), String(opts.partitions ?? 3), ...topics], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const lines = createInterface({ input: proc.stdout });
  // Lines after the first answer inject() calls, in order.
  const waiting: Array<{ resolve: () => void; reject: (e: Error) => void; cmd: string }> = [];
  const brokers = await new Promise<string>((resolve, reject) => {
    let first = true;
    lines.on('line', (line) => {
      if (first) {
        first = false;
        resolve(line.trim());
        return;
      }
      const w = waiting.shift();
      if (!w) return;
      if (line.startsWith('ok')) w.resolve();
      else w.reject(new Error(`mock-kafka "${w.cmd}": ${line}`));
    });
    proc.once('exit', (code) => reject(new Error(`mock-kafka exited with ${code}: ${stderr}`)));
  });
  return {
    brokers,
    pid: proc.pid,
    inject(cmd) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject, cmd });
        proc.stdin.write(`${cmd.trim()}\n`);
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- fixtures shared by the Kafka suites ----

/** The service's environment for Kafka mode on the mock (no idempotent producer; short rebalances). */
export function mockServiceEnv(mock: MockKafka): Record<string, string> {
  return {
    KAFKA_BROKERS: mock.brokers,
    KAFKA_IDEMPOTENT: 'false',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    BATCH_MAX_WAIT_MS: '100',
  };
}

/** Creates `<name>_events` (partitions) and `<name>_q` on the mock and returns the sink's Kafka settings. */
export async function mockTopics(mock: MockKafka, name: string, partitions = 3) {
  await mock.inject(`topic ${name}_events ${partitions}`);
  await mock.inject(`topic ${name}_q 1`);
  return {
    KAFKA_BROKERS: mock.brokers,
    KAFKA_CLIENT_ID: 'test',
    KAFKA_TOPIC: `${name}_events`,
    KAFKA_QUARANTINE_TOPIC: `${name}_q`,
    KAFKA_GROUP_ID: `${name}-loader`,
    MAX_PENDING_BYTES: 64 << 20,
  };
}

/** A valid feature_events row as the ingest path serialises it (one JSONEachRow line). */
export function eventLine(eventId: string, userId = `u${eventId.length % 7}`): string {
  return JSON.stringify({
    event_id: eventId,
    user_id: userId,
    feature_id: 'f',
    product_version: '1.0',
    event_type: 'feature_used',
    timestamp: '2024-01-01 00:00:00',
    session_id: 's1',
    metadata: '{}',
  });
}

/** A feature_events_quarantine row (all columns nullable strings plus the reasons). */
export function quarantineLine(eventId: string): string {
  return JSON.stringify({
    raw: `not json ${eventId}`,
    event_id: eventId,
    c__error_column: ['timestamp'],
    c__error: ['bad timestamp'],
  });
}

/** Polls until check() returns a truthy value; the timeout only bounds a failing test. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The service's environment in the fault suites' Kafka mode: the mock broker (without the
 * idempotent producer, which it cannot serve), a short session (every rebalance waits one
 * out), small batches, and every fourth insert failing.
 */
export function faultKafkaEnv(mock: MockKafka): Record<string, string> {
  return {
    KAFKA_BROKERS: mock.brokers,
    KAFKA_IDEMPOTENT: 'false',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    BATCH_MAX_WAIT_MS: '100',
    BATCH_MAX_ROWS: '500',
    FAULT_INSERT_FAIL_EVERY: '4',
  };
}
