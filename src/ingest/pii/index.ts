export { redactText, type ValueKind } from './detect.js';
export { PiiConfigError, piiGuardFromConfig } from './from-config.js';
export {
  type FieldMode,
  type Guarded,
  ID_FIELDS,
  PiiGuard,
  type PiiGuardOptions,
  type PiiPolicy,
} from './guard.js';
export { DEFAULT_DENY_KEYS, DenyKeysError, normalizeKey, parseDenyKeys } from './keys.js';
export { guardIngestRows, quarantineModes, type ScannedLines, scrubQuarantineLine } from './rows.js';
export type { Finding } from './walk.js';
