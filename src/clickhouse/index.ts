export {
  type Admin,
  createStorageClient,
  type Reader,
  type Session,
  type StorageClient,
} from './client.js';
export { insertJsonLines } from './insert.js';
export {
  type Migration,
  MigrationError,
  type MigrationReport,
  migrate,
  readMigrations,
  splitStatements,
} from './migrate.js';
export { clientStore, type Store } from './store.js';
