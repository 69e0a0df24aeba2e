import { fileURLToPath } from 'node:url';
import { buildServiceJs } from './helpers/service-build.js';

/**
 * Once per `vitest run`, before any test file: the service built to plain JavaScript, which
 * startServiceProcess then runs (SERVICE_ENTRY_JS; see helpers/service-build.ts). Built from
 * the sources as they are now, so a test never runs an older build.
 */
export default function setup(): void {
  process.env.SERVICE_ENTRY_JS = buildServiceJs(fileURLToPath(new URL('..', import.meta.url)));
}
