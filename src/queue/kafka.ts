import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../config/index.js';
import type { Log } from '../log/index.js';
import { useFastGzip } from './kafka-gzip.js';

export type KafkaConfig = Pick<
  Config,
  'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID' | 'KAFKA_TOPIC' | 'KAFKA_QUARANTINE_TOPIC' | 'KAFKA_GROUP_ID'
>;

/** One kafkajs client per process role; its own logs go through our Log, not console. */
export function createKafka(config: KafkaConfig, log: Log, clientSuffix = ''): Kafka {
  if (!config.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is not set');
  useFastGzip();
  const toLevel = (level: logLevel) =>
    level <= logLevel.ERROR
      ? 'error'
      : level === logLevel.WARN
        ? 'warn'
        : level === logLevel.INFO
          ? 'info'
          : 'debug';
  return new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}${clientSuffix}`,
    brokers: config.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    // kafkajs' INFO is chatty (every join, every connect); keep warnings and errors.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...fields } = entry;
        log(toLevel(level), `kafkajs: ${message}`, fields);
      },
  });
}
