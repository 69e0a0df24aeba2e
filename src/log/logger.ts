import { type DestinationStream, pino } from 'pino';
import { redactFields, redactText } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Log = ((level: LogLevel, msg: string, fields?: Record<string, unknown>) => void) & {
  /** Whether a line at this level is written: lets a hot path skip building its fields. */
  enabled?: (level: LogLevel) => boolean;
};

/**
 * Structured JSON logs on stdout (pino); modules take the small Log function, not pino.
 * Every line has its secrets redacted (redact.ts): a token never reaches the log.
 */
export function createLog(level: LogLevel | 'silent', destination?: DestinationStream): Log {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  const logger = destination ? pino(options, destination) : pino(options);
  const log: Log = (lvl, msg, fields) => {
    if (!logger.isLevelEnabled(lvl)) return;
    logger[lvl](fields ? (redactFields(fields) as Record<string, unknown>) : {}, redactText(msg));
  };
  log.enabled = (lvl) => logger.isLevelEnabled(lvl);
  return log;
}

export const silentLog: Log = () => {};
