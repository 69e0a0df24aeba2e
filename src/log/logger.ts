import { pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** Structured JSON logs on stdout (pino); modules take the small Log function, not pino. */
export function createLog(level: LogLevel | 'silent'): Log {
  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  return (lvl, msg, fields) => logger[lvl](fields ?? {}, msg);
}

export const silentLog: Log = () => {};
