import { describe, expect, it } from 'vitest';
import type { DatasourceFile } from '../../project/datasource-file.js';
import { parseDatasourceBody } from '../../project/rows.js';
import { parseEventsBody } from '../rows.js';
import { PiiGuard } from './guard.js';
import { DenyKeysError, parseDenyKeys } from './keys.js';

const guard = (policy: 'redact' | 'quarantine' = 'redact', keys?: string) =>
  new PiiGuard({ policy, denyKeys: parseDenyKeys(keys), hashKey: 'test-key' });

const event = (over: Record<string, unknown>) => ({
  event_id: 'evt_1',
  user_id: 'usr_1',
  feature_id: 'search.v2',
  product_version: '2.4.1',
  event_type: 'feature_used',
  timestamp: '2024-01-15 10:00:00',
  session_id: 'sess_1',
  ...over,
});
const ingest = (rows: unknown[], g?: PiiGuard) =>
  parseEventsBody(Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')), g);
const stored = (line: string) => JSON.parse(line) as Record<string, string>;

// Every kind, in keys and in values, nested, in arrays inside objects, and metadata sent
// both as an object and as a JSON string.
const PII_METADATA = {
  contact: {
    email: 'bob@example.com',
    firstName: 'Bob',
    last_name: 'Smith',
    'Phone-Number': '+1 555 123 4567',
  },
  shipping: { Address: '1 Main St', note: 'leave at door, call 020 7946 0958' },
  people: [{ name: 'Ana' }, { display_name: 'ana_b', chatId: 123456789 }],
  client: { remote: '203.0.113.7', v6: '2001:db8::42', ua: 'Mozilla/5.0' },
  payment: { last_attempt: 'card 4111 1111 1111 1111 declined', amount: 12.5 },
  invited: ['carol@example.org', 'dave+x@example.net'],
  visits: { 'eve@example.com': 3 },
  ip: '10.1.2.3',
  chat_id: '-100123456',
  duration_seconds: 45,
};
const PII_REDACTED = {
  contact: {
    email: '[redacted:email]',
    firstName: '[redacted:firstname]',
    last_name: '[redacted:lastname]',
    'Phone-Number': '[redacted:phonenumber]',
  },
  shipping: { Address: '[redacted:address]', note: 'leave at door, call [redacted:phone]' },
  people: [
    { name: '[redacted:name]' },
    { display_name: '[redacted:displayname]', chatId: '[redacted:chatid]' },
  ],
  client: { remote: '[redacted:ip]', v6: '[redacted:ip]', ua: 'Mozilla/5.0' },
  payment: { last_attempt: 'card [redacted:card] declined', amount: 12.5 },
  invited: ['[redacted:email]', '[redacted:email]'],
  visits: { '[redacted:email]': 3 },
  ip: '[redacted:ip]',
  chat_id: '[redacted:chatid]',
  duration_seconds: 45,
};

// Metadata that looks like personal data to a careless eye, and is not.
const LOOK_ALIKE_METADATA = {
  version: '1.2.3.4-beta',
  versions: ['10.0.0', '2024.01.15', '3.12.0+20240115', '1.0.0-rc.1'],
  request_id: '550e8400-e29b-41d4-a716-446655440000',
  ulid: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
  at: '2023-10-15T14:35:22.123Z',
  ts_ms: 1700000000000,
  order_id: 1234567890123456,
  order_ref: '4111111111111112',
  feature: 'search.v2',
  pathname: '/pos',
  commit: 'd41d8cd98f00b204e9800998ecf8427e',
  filename: 'report.pdf',
  username_length: 8,
  nested: { hostname: 'api.internal', port: 8080, tags: ['a:b:c', 'std::map'] },
};

describe('PII guard on feature_events', () => {
  it('redacts every kind at any depth, in keys and values, and counts the row once', () => {
    for (const metadata of [PII_METADATA, JSON.stringify(PII_METADATA)]) {
      const out = ingest([event({ metadata }), event({ event_id: 'evt_2' })], guard());
      expect(out.redacted).toBe(1);
      expect(out.quarantine).toEqual([]);
      expect(JSON.parse(stored(out.events[0] as string).metadata as string)).toEqual(PII_REDACTED);
    }
  });

  it('leaves look-alikes byte for byte as the guard-less path stores them', () => {
    const rows = [
      event({ metadata: LOOK_ALIKE_METADATA }),
      event({ metadata: JSON.stringify(LOOK_ALIKE_METADATA) }),
    ];
    const out = ingest(rows, guard());
    expect(out.redacted).toBe(0);
    expect(out.events).toEqual(ingest(rows).events);
  });

  it('quarantine policy: the row goes to quarantine with where and what, and no personal data', () => {
    const out = ingest(
      [event({ metadata: { ok: 1, contact: { email: 'bob@example.com', tel: '+44 20 7946 0958' } } })],
      guard('quarantine'),
    );
    expect(out.events).toEqual([]);
    expect(out.redacted).toBe(0);
    const q = JSON.parse(out.quarantine[0] as string);
    expect(q.c__error_column).toEqual(['metadata']);
    expect(q.c__error).toEqual([
      'metadata.contact.email: the key "email" is on the PII deny list (PII_POLICY=quarantine)',
      'metadata.contact.tel: the key "tel" is on the PII deny list (PII_POLICY=quarantine)',
    ]);
    expect(out.quarantine[0]).not.toMatch(/bob@example|7946/);
    expect(q.metadata).toContain('[redacted:email]');
  });

  it('hashes an e-mail user_id and account_id: one stable, keyed pseudonym per address', () => {
    const out = ingest(
      [
        event({ user_id: 'Bob@Example.com', account_id: 'billing@acme.example' }),
        event({ user_id: ' bob@example.com' }),
      ],
      guard(),
    );
    const [a, b] = out.events.map(stored) as [Record<string, string>, Record<string, string>];
    expect(a.user_id).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(a.user_id).toBe(b.user_id);
    expect(a.account_id).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(out.redacted).toBe(2);
    const other = new PiiGuard({ policy: 'redact', denyKeys: parseDenyKeys(undefined), hashKey: 'another' });
    expect(other.hashId('bob@example.com')).not.toBe(a.user_id);
    // Under quarantine the row is refused, and its reason names the column.
    const q = ingest([event({ user_id: 'bob@example.com' })], guard('quarantine'));
    expect(JSON.parse(q.quarantine[0] as string).c__error).toEqual([
      'user_id: an e-mail address (PII_POLICY=quarantine)',
    ]);
  });

  it('does not touch the other columns (an id may be any string)', () => {
    const row = event({ event_id: '4111111111111111', session_id: '10.0.0.1' });
    expect(ingest([row], guard()).events).toEqual(ingest([row]).events);
  });

  it('takes a configured deny list; "default" keeps the built-in one', () => {
    const metadata = { Tax_Number: 'X1', email: 'x' };
    const custom = stored(ingest([event({ metadata })], guard('redact', 'tax-number')).events[0] as string);
    expect(JSON.parse(custom.metadata as string)).toEqual({ Tax_Number: '[redacted:taxnumber]', email: 'x' });
    const both = stored(
      ingest([event({ metadata })], guard('redact', 'default, taxNumber')).events[0] as string,
    );
    expect(JSON.parse(both.metadata as string)).toEqual({
      Tax_Number: '[redacted:taxnumber]',
      email: '[redacted:email]',
    });
    expect(() => parseDenyKeys('email,"x"')).toThrow(DenyKeysError);
    expect(() => parseDenyKeys(' , ')).toThrow(DenyKeysError);
  });

  it('finds a deny key written with a character that lower-cases into it (Kelvin sign K for k)', () => {
    // normalizeKey lower-cases U+212A to "k", so the walk matches it; the pre-scan must match it too.
    const metadata = { 'Ban\u212A': 'private', note: 'x' };
    const redacted = { 'Ban\u212A': '[redacted:bank]', note: 'x' };
    for (const sent of [metadata, JSON.stringify(metadata)]) {
      const row = stored(ingest([event({ metadata: sent })], guard('redact', 'bank')).events[0] as string);
      expect(JSON.parse(row.metadata as string)).toEqual(redacted);
    }
  });

  it('keeps personal data out of rows quarantined for other reasons', () => {
    const out = ingest(
      [event({ timestamp: 'yesterday', metadata: { email: 'bob@example.com' } }), 'call +1 555 123 4567'],
      guard(),
    );
    expect(out.quarantine).toHaveLength(2);
    for (const line of out.quarantine) expect(line).not.toMatch(/bob@example|555 123/);
    expect(JSON.parse(out.quarantine[0] as string).c__error[0]).toMatch(/^timestamp: /);
  });

  it('off (no guard) stores what was sent', () => {
    const out = ingest([event({ metadata: PII_METADATA })]);
    expect(JSON.parse(stored(out.events[0] as string).metadata as string)).toEqual(PII_METADATA);
  });
});

describe('PII guard on project datasources', () => {
  const ds = {
    name: 'signups',
    columns: [
      { name: 'account_id', type: 'String', jsonPath: ['account_id'], rest: '' },
      { name: 'plan', type: 'String', jsonPath: ['plan'], rest: '' },
      { name: 'contact', type: 'String', jsonPath: ['contact'], rest: '' },
    ],
  } as unknown as DatasourceFile;
  const body = Buffer.from(
    [
      { account_id: 'owner@acme.example', plan: 'pro', contact: { phone: '+1 555 123 4567', city: 'Lyon' } },
      { account_id: 'acct_1', plan: 'free', contact: 'none' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );

  it('redacts and counts', () => {
    const out = parseDatasourceBody(ds, body, guard());
    expect(out.redacted).toBe(1);
    const row = JSON.parse(out.events[0] as string);
    expect(row.account_id).toMatch(/^hmac:/);
    expect(JSON.parse(row.contact)).toEqual({ phone: '[redacted:phone]', city: 'Lyon' });
    expect(out.events[1]).toBe(parseDatasourceBody(ds, body).events[1]);
  });

  it('quarantines with the reasons', () => {
    const out = parseDatasourceBody(ds, body, guard('quarantine'));
    expect(out.events).toHaveLength(1);
    expect(JSON.parse(out.quarantine[0] as string).c__error).toEqual([
      'account_id: an e-mail address (PII_POLICY=quarantine)',
      'contact.phone: the key "phone" is on the PII deny list (PII_POLICY=quarantine)',
    ]);
  });
});
