import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 7181, DATA_DIR: './data', ROLE: 'all', SHUTDOWN_DRAIN_MS: 10_000 });
    expect(c.CLICKHOUSE_URL).toBeUndefined();
  });

  it('names the variable and what was expected', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT="eighty"/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ CLICKHOUSE_URL: 'localhost:8123' })).toThrow(/CLICKHOUSE_URL/);
    expect(() => loadConfig({ ROLE: 'worker' })).toThrow(/ROLE="worker"/);
    expect(() => loadConfig({ SHUTDOWN_DRAIN_MS: '0' })).toThrow(/SHUTDOWN_DRAIN_MS="0"/);
  });

  it('reads the metrics settings: METRICS_PORT off by default, a port when set', () => {
    const defaults = loadConfig({});
    expect(defaults.METRICS_PORT).toBeUndefined();
    expect(defaults.METRICS_CACHE_SECONDS).toBe(15);
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '127.0.0.1' })).toMatchObject({
      METRICS_PORT: 9464,
      METRICS_HOST: '127.0.0.1',
    });
    expect(() => loadConfig({ METRICS_PORT: 'prometheus' })).toThrow(/METRICS_PORT="prometheus"/);
    expect(() => loadConfig({ METRICS_CACHE_SECONDS: '0' })).toThrow(/METRICS_CACHE_SECONDS="0"/);
  });

  it('refuses split roles on embedded chDB', () => {
    expect(() => loadConfig({ ROLE: 'consumer', KAFKA_BROKERS: 'localhost:9092' })).toThrow(/CLICKHOUSE_URL/);
    expect(loadConfig({ ROLE: 'api', KAFKA_BROKERS: 'k:9092', CLICKHOUSE_URL: 'http://ch:8123' }).ROLE).toBe(
      'api',
    );
  });
});
