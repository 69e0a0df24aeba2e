import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { parsePerTokenLimits, parseQuotaLimits, Quotas } from './quotas.js';

export { Quotas } from './quotas.js';

export class QuotaConfigError extends Error {
  override name = 'QuotaConfigError';
}

/** Quotas when QUOTA_DEFAULTS or QUOTA_LIMITS is set; nothing is counted otherwise. */
export function quotasFromConfig(
  config: Pick<Config, 'QUOTA_DEFAULTS' | 'QUOTA_LIMITS' | 'QUOTA_MODE' | 'DATA_DIR'>,
): Quotas | undefined {
  if (!config.QUOTA_DEFAULTS && !config.QUOTA_LIMITS) return undefined;
  try {
    return new Quotas({
      defaults: parseQuotaLimits(config.QUOTA_DEFAULTS, 'QUOTA_DEFAULTS'),
      perToken: parsePerTokenLimits(config.QUOTA_LIMITS),
      mode: config.QUOTA_MODE,
      file: join(config.DATA_DIR, 'quota-usage.log'),
    });
  } catch (err) {
    throw new QuotaConfigError((err as Error).message);
  }
}
