/**
 * Metadata keys that name personal data. A key matches whatever its case and separators
 * (`firstName`, `first_name`, `First-Name` and `first.name` are all `firstname`), at any depth.
 */
export const DEFAULT_DENY_KEYS = [
  'email',
  'e_mail',
  'email_address',
  'mail',
  'name',
  'full_name',
  'first_name',
  'last_name',
  'middle_name',
  'given_name',
  'family_name',
  'surname',
  'display_name',
  'username',
  'phone',
  'phone_number',
  'mobile',
  'mobile_number',
  'telephone',
  'tel',
  'address',
  'street',
  'street_address',
  'address_line1',
  'address_line2',
  'postal_code',
  'zip',
  'zip_code',
  'ip',
  'ip_address',
  'ipv4',
  'ipv6',
  'client_ip',
  'remote_addr',
  'x_forwarded_for',
  'chat_id',
  'telegram_chat_id',
  'ssn',
  'tax_id',
  'passport',
  'passport_number',
  'date_of_birth',
  'dob',
  'birth_date',
  'birthday',
  'credit_card',
  'card_number',
  'iban',
] as const;

/** What a key is compared as: lower case, without `-`, `_`, `.` and spaces. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_. ]/g, '');
}

export class DenyKeysError extends Error {
  override name = 'DenyKeysError';
}

/**
 * PII_DENY_KEYS: a comma-separated list of keys, replacing the defaults; the word
 * `default` in it stands for the default list (`default,tax_number` adds one).
 */
export function parseDenyKeys(spec: string | undefined): Set<string> {
  if (spec === undefined || spec.trim() === '') return new Set(DEFAULT_DENY_KEYS.map(normalizeKey));
  const keys = new Set<string>();
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === 'default') {
      for (const k of DEFAULT_DENY_KEYS) keys.add(normalizeKey(k));
      continue;
    }
    const key = normalizeKey(item);
    if (!/^[\p{L}\p{N}]+$/u.test(key))
      throw new DenyKeysError(`"${item}" is not a key: use letters and digits, with - _ . or spaces between`);
    keys.add(key);
  }
  if (keys.size === 0) throw new DenyKeysError('the list is empty: unset it for the defaults');
  return keys;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A pattern that finds, in JSON text, every quoted string that could normalise to a deny
 * key: the key's characters with any separators between them. In metadata carried as a
 * JSON string the closing quote is escaped (`\"email\"`), and in JSON inside a string in
 * it escaped twice (`\\\"email\\\"`), hence any number of backslashes.
 * It over-matches (a value equal to a key matches too); the walk decides.
 */
export function keyPattern(keys: ReadonlySet<string>): string {
  const sep = '[-_. ]*';
  const alternatives = [...keys]
    .sort((a, b) => b.length - a.length)
    .map((k) => [...k].map(escapeRegExp).join(sep));
  return `"${sep}(?:${alternatives.join('|')})${sep}\\\\*"`;
}
