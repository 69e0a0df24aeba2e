import { serve } from '@hono/node-server';
import { TokenStore } from '../../src/auth/index.js';
import { createStorageClient } from '../../src/clickhouse/index.js';
import { silentLog } from '../../src/log/index.js';
import { startSqlHttpListener } from '../../src/sql-http/listen.js';

// A process that owns one embedded chDB store and serves it as a writable ClickHouse HTTP
// interface (test-only mode), and nothing else: no migrations, no service. Other processes
// reach the store through CLICKHOUSE_URL as they would a ClickHouse server.
//   node --import tsx test/helpers/listener-host.ts <data dir> <port> <token>
const [dataDir, port, token] = process.argv.slice(2);
if (!dataDir || !port || !token) throw new Error('usage: listener-host.ts <data dir> <port> <token>');
const storage = await createStorageClient({
  DATA_DIR: dataDir,
  CLICKHOUSE_URL: undefined,
  CLICKHOUSE_USER: 'default',
  CLICKHOUSE_PASSWORD: '',
  CLICKHOUSE_DATABASE: 'default',
});
const listener = await startSqlHttpListener({
  port: Number(port),
  host: '127.0.0.1',
  mode: 'unsafe-writable-for-tests',
  tokens: new TokenStore([{ name: 'admin token', token, scopes: [{ type: 'ADMIN' }] }]),
  reader: () => undefined,
  openSession: storage.openSession,
  maxBodyBytes: 1024 * 1024,
  log: silentLog,
  serve,
});
process.stdout.write('LISTENING\n');
process.on('SIGTERM', async () => {
  await listener.close();
  await storage.close();
  process.exit(0);
});
