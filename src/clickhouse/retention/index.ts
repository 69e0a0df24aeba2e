import type { Config } from '../../config/index.js';
import type { SchemaProfile } from '../migrations/profile.js';
import type { Admin } from '../reader.js';
import { type ApplyRetentionOptions, applyRetention } from './apply.js';
import { retentionTargets } from './ttl.js';

export { applyRetention } from './apply.js';
export { currentTtl, type RetentionPolicy, retentionTargets, ttlExpression, ttlStatement } from './ttl.js';

/**
 * The configured retention (RAW_RETENTION_DAYS, QUARANTINE_RETENTION_DAYS) applied to the
 * built-in tables and, when given, the project datasources' quarantine tables. Run by whoever
 * runs the migrations (ROLE=all at start, `npm run migrate`), after them.
 */
export function applyConfiguredRetention(
  client: Admin,
  config: Pick<Config, 'RAW_RETENTION_DAYS' | 'QUARANTINE_RETENTION_DAYS'>,
  profile: SchemaProfile,
  projectDatasources: Iterable<string> = [],
  options: ApplyRetentionOptions = {},
): Promise<string[]> {
  const policy = { rawDays: config.RAW_RETENTION_DAYS, quarantineDays: config.QUARANTINE_RETENTION_DAYS };
  return applyRetention(client, profile, retentionTargets(policy, projectDatasources), options);
}
