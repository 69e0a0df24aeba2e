export { createLog, type Log, type LogLevel, silentLog } from './logger.js';
