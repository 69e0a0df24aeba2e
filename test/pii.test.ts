import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, ndjson, postEvents, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// Seed 003 (no PII) through the public surface: POST /v0/events on the real service, then
// what ClickHouse holds, read back with SQL.
const PROJECT = fileURLToPath(new URL('./fixtures/tinybird-project', import.meta.url));

const PII_METADATA = {
  duration_seconds: 45,
  contact: { firstName: 'Bob', email: 'bob@example.com' },
  notes: ['ok', 'call +44 20 7946 0958'],
  client: { addr: '203.0.113.7' },
  version: '1.2.3.4-beta',
};

let redacting: ServiceProcess;
let quarantining: ServiceProcess;

beforeAll(async () => {
  [redacting, quarantining] = await Promise.all([
    // The default policy (redact), with a Tinybird project beside feature_events.
    startServiceProcess({ env: { PROJECT_DIR: PROJECT, BATCH_MAX_WAIT_MS: '50' } }),
    startServiceProcess({
      env: { PII_POLICY: 'quarantine', PII_HASH_KEY: 'e2e-key', BATCH_MAX_WAIT_MS: '50' },
    }),
  ]);
});
afterAll(async () => {
  expect(await redacting?.stop()).toBe(0);
  expect(await quarantining?.stop()).toBe(0);
});

describe('PII_POLICY=redact (the default)', () => {
  it('stores metadata redacted and an e-mail user_id hashed, and says how many rows it changed', async () => {
    const body = ndjson([
      event({ event_id: 'pii_1', user_id: 'Bob@Example.com', metadata: JSON.stringify(PII_METADATA) }),
      event({ event_id: 'pii_2', metadata: { pathname: '/pos', at: '2024-01-15T10:00:00Z' } }),
      event({ event_id: 'pii_3', user_id: 'bob@example.com' }),
    ]);
    const res = await postEvents(redacting, body);
    expect(await res.json()).toEqual({ successful_rows: 3, quarantined_rows: 0, redacted_rows: 2 });
    const rows = await redacting.sql<{ event_id: string; user_id: string; metadata: string }>(
      "SELECT event_id, user_id, metadata FROM feature_events WHERE event_id LIKE 'pii_%' ORDER BY event_id",
    );
    expect(rows.map((r) => r.event_id)).toEqual(['pii_1', 'pii_2', 'pii_3']);
    const [first, second, third] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    expect(JSON.parse(first.metadata)).toEqual({
      duration_seconds: 45,
      contact: { firstName: '[redacted:firstname]', email: '[redacted:email]' },
      notes: ['ok', 'call [redacted:phone]'],
      client: { addr: '[redacted:ip]' },
      version: '1.2.3.4-beta',
    });
    expect(first.user_id).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(third.user_id).toBe(first.user_id);
    expect(second.metadata).toBe('{"pathname":"/pos","at":"2024-01-15T10:00:00Z"}');
    const anywhere = await redacting.sql<{ c: string }>(
      "SELECT count() AS c FROM feature_events WHERE positionCaseInsensitive(concat(user_id, metadata), 'bob') > 0",
    );
    expect(Number(anywhere[0]?.c)).toBe(0);
  });

  it('applies to a project datasource too', async () => {
    const res = await fetch(`${redacting.baseUrl}/v0/events?name=signups&wait=true`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${redacting.token}` },
      body: ndjson([
        { created_at: '2024-01-15 10:00:00', account_id: 'owner@acme.example', plan: 'pro', seats: 3 },
      ]),
    });
    expect(await res.json()).toEqual({ successful_rows: 1, quarantined_rows: 0, redacted_rows: 1 });
    const [row] = await redacting.sql<{ account_id: string }>('SELECT account_id FROM signups');
    expect(row?.account_id).toMatch(/^hmac:[0-9a-f]{32}$/);
  });
});

describe('PII_POLICY=quarantine', () => {
  it('keeps the row out of feature_events; the quarantine table holds it, redacted, with the reasons', async () => {
    const body = ndjson([
      event({ event_id: 'q_1', metadata: JSON.stringify(PII_METADATA) }),
      event({ event_id: 'q_2', user_id: 'carol@example.org' }),
      event({ event_id: 'q_3' }),
    ]);
    const res = await postEvents(quarantining, body);
    expect(await res.json()).toEqual({ successful_rows: 1, quarantined_rows: 2, redacted_rows: 0 });
    const stored = await quarantining.sql<{ event_id: string }>(
      "SELECT event_id FROM feature_events WHERE event_id LIKE 'q_%'",
    );
    expect(stored).toEqual([{ event_id: 'q_3' }]);
    const q = await quarantining.sql<{ event_id: string; c__error: string[]; raw: string }>(
      'SELECT event_id, c__error, raw FROM feature_events_quarantine ORDER BY event_id',
    );
    expect(q.map((r) => [r.event_id, r.c__error])).toEqual([
      [
        'q_1',
        [
          'metadata.contact.firstName: the key "firstname" is on the PII deny list (PII_POLICY=quarantine)',
          'metadata.contact.email: the key "email" is on the PII deny list (PII_POLICY=quarantine)',
          'metadata.notes[1]: a phone number (PII_POLICY=quarantine)',
          'metadata.client.addr: an IP address (PII_POLICY=quarantine)',
        ],
      ],
      ['q_2', ['user_id: an e-mail address (PII_POLICY=quarantine)']],
    ]);
    for (const row of q) expect(row.raw).not.toMatch(/bob@|carol@|7946|203\.0\.113/);
  });
});
