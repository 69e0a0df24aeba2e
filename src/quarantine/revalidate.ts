import { parseEventsBody } from '../ingest/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';

/** What replaying one quarantined row comes to, after the normal ingest validation. */
export type Verdict =
  /** Valid now: its event line(s) go to feature_events (and any rest back to quarantine). */
  | { outcome: 'stored'; events: string[]; quarantine: string[] }
  /** Still bad, for another reason than before: quarantined again with the new reason. */
  | { outcome: 'requarantined'; events: []; quarantine: string[] }
  /** Still bad for the same reason: left where it is, untouched. */
  | { outcome: 'unchanged' };

/**
 * Runs a quarantined row's raw line through the ingest validation the Events API uses
 * (parseEventsBody, with the configured PII guard), so a replayed row meets the same rules
 * as a new one.
 */
export function revalidate(raw: string, previousErrors: readonly string[], pii?: PiiGuard): Verdict {
  const rows = parseEventsBody(Buffer.from(raw, 'utf8'), pii);
  if (rows.events.length > 0) return { outcome: 'stored', events: rows.events, quarantine: rows.quarantine };
  const [only, ...more] = rows.quarantine;
  if (only === undefined) return { outcome: 'unchanged' }; // a blank line: nothing to store
  if (more.length === 0 && sameErrors(only, previousErrors)) return { outcome: 'unchanged' };
  return { outcome: 'requarantined', events: [], quarantine: rows.quarantine };
}

function sameErrors(quarantineLine: string, previous: readonly string[]): boolean {
  const now = (JSON.parse(quarantineLine) as { c__error?: string[] }).c__error ?? [];
  return now.length === previous.length && now.every((e, i) => e === previous[i]);
}
