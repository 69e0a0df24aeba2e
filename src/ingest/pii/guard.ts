import { createHmac } from 'node:crypto';
import { isEmailId, redacted } from './detect.js';
import { type DenyKeyTrie, denyKeyTrie } from './key-trie.js';
import { keyPattern, normalizeKey } from './keys.js';
import { mayHoldPiiValue } from './prescan.js';
import { type Finding, redactValue } from './walk.js';

export type PiiPolicy = 'redact' | 'quarantine' | 'off';

export interface PiiGuardOptions {
  policy: Exclude<PiiPolicy, 'off'>;
  /** Normalised deny keys (parseDenyKeys). */
  denyKeys: ReadonlySet<string>;
  /** The HMAC key user_id / account_id e-mail addresses are hashed with. */
  hashKey: string;
}

/** How a record's top-level field is treated. */
export type FieldMode = 'id' | 'walk' | 'skip';

// Ids that name a person: an e-mail address here is hashed, not redacted, so the events of
// one person still count as one user (see docs/operations.md#privacy).
export const ID_FIELDS: ReadonlySet<string> = new Set(['user_id', 'account_id']);

const DESCRIBE: Record<string, string> = {
  email: 'an e-mail address',
  ip: 'an IP address',
  card: 'a payment card number',
  phone: 'a phone number',
};

export interface Guarded {
  value: Record<string, unknown>;
  findings: Finding[];
}

/**
 * The PII guard (seed 003: no personal data in events). One per process, built from the
 * configuration; ingest asks it about every row before the row is queued.
 */
export class PiiGuard {
  readonly policy: Exclude<PiiPolicy, 'off'>;
  private readonly denyKeys: ReadonlySet<string>;
  private readonly keys: RegExp;
  private readonly hashKey: string;
  /** The deny keys as the scan folded into row validation checks them (string-scan.ts). */
  readonly denyKeyTrie: DenyKeyTrie;

  constructor(options: PiiGuardOptions) {
    this.policy = options.policy;
    this.denyKeys = options.denyKeys;
    this.denyKeyTrie = denyKeyTrie(options.denyKeys);
    this.keys = new RegExp(keyPattern(options.denyKeys), 'giu');
    this.hashKey = options.hashKey;
  }

  /**
   * Whether JSON text (a posted row, or a serialised one) could hold personal data. false
   * is certain: nothing the full walk would find is in it. Most rows end here, unparsed.
   * `from`: where the digit, colon and key searches start (`@`, `+`, `(`, `::` and `\u`
   * are looked for everywhere).
   */
  mayHoldPii(text: string, from = 0): boolean {
    if (mayHoldPiiValue(text, from)) return true;
    this.keys.lastIndex = from;
    return this.keys.test(text);
  }

  /**
   * A record with personal data replaced, and what was found where; `modes` says how each
   * top-level field is treated (fields it does not name are walked). The value is the same
   * object when nothing was found.
   */
  guard(record: Record<string, unknown>, modes: (field: string) => FieldMode): Guarded {
    const findings: Finding[] = [];
    let copy: Record<string, unknown> | undefined;
    for (const [field, v] of Object.entries(record)) {
      const mode = modes(field);
      if (mode === 'skip') continue;
      let next: unknown = v;
      if (mode === 'id') {
        if (typeof v === 'string' && isEmailId(v)) {
          findings.push({ path: field, kind: 'email', byKey: false });
          next = this.hashId(v);
        }
      } else {
        const normalized = normalizeKey(field);
        if (this.denyKeys.has(normalized) && v !== null && v !== '') {
          findings.push({ path: field, kind: normalized, byKey: true });
          next = redacted(normalized);
        } else next = redactValue(v, field, this.denyKeys, normalizeKey, findings);
      }
      if (next !== v) {
        copy ??= { ...record };
        copy[field] = next;
      }
    }
    return { value: copy ?? record, findings };
  }

  /**
   * A stable pseudonym for an e-mail address used as an id: HMAC-SHA256 under the
   * configured key, of the address in lower case. The same person keeps one id; without
   * the key nobody can test a list of addresses against the stored ids.
   */
  hashId(email: string): string {
    const mac = createHmac('sha256', this.hashKey).update(email.trim().toLowerCase()).digest('hex');
    return `hmac:${mac.slice(0, 32)}`;
  }

  /** The quarantine reasons for a row refused under PII_POLICY=quarantine: where, and what, never the value. */
  reasons(findings: Finding[]): { columns: string[]; errors: string[] } {
    const columns = [...new Set(findings.map((f) => f.path.split(/[.[]/)[0] as string))];
    const errors = findings.map(
      (f) =>
        `${f.path}: ${f.byKey ? `the key "${f.kind}" is on the PII deny list` : DESCRIBE[f.kind]} (PII_POLICY=quarantine)`,
    );
    return { columns, errors };
  }
}
