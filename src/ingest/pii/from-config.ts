import { keptSecret } from '../../lib/kept-secret.js';
import { PiiGuard, type PiiPolicy } from './guard.js';
import { DenyKeysError, parseDenyKeys } from './keys.js';

export class PiiConfigError extends Error {
  override name = 'PiiConfigError';
}

/**
 * The guard the configuration asks for, or undefined for PII_POLICY=off. Without
 * PII_HASH_KEY the key is generated once and kept in DATA_DIR/pii-hash-key; processes that
 * share the data (several api processes) must share PII_HASH_KEY instead.
 */
export function piiGuardFromConfig(config: {
  PII_POLICY: PiiPolicy;
  PII_DENY_KEYS?: string;
  PII_HASH_KEY?: string;
  DATA_DIR: string;
}): PiiGuard | undefined {
  if (config.PII_POLICY === 'off') return undefined;
  let denyKeys: Set<string>;
  try {
    denyKeys = parseDenyKeys(config.PII_DENY_KEYS);
  } catch (err) {
    if (err instanceof DenyKeysError) throw new PiiConfigError(`PII_DENY_KEYS: ${err.message}`);
    throw err;
  }
  const hashKey = config.PII_HASH_KEY ?? keptSecret(config.DATA_DIR, 'pii-hash-key').secret;
  return new PiiGuard({ policy: config.PII_POLICY, denyKeys, hashKey });
}
