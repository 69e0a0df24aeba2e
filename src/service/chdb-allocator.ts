/**
 * The jemalloc options the service starts chDB with, in JE_MALLOC_CONF. chDB links its own
 * jemalloc, with the `je_` prefix and hidden symbols: Node's malloc stays glibc's, and jemalloc
 * reads JE_MALLOC_CONF, not MALLOC_CONF (checked: MALLOC_CONF left `opt.dirty_decay_ms` at
 * 5000 in `system.jemalloc_stats`). It is built with
 * `dirty_decay_ms:5000`: pages a query or an insert frees stay resident for ~5 s before they
 * are returned. In a bulk load the inserts free faster than that, and at the peak jemalloc held
 * ~180 MiB of such pages against ~50 MiB allocated (docs/performance.md, Memory while loading,
 * fifth pass). A shorter decay returns them sooner.
 *
 * jemalloc reads it once, when the library loads, so it lives in the launch commands:
 * package.json (start, consumer) and the Dockerfile write it again, and npm start appends an
 * operator's own JE_MALLOC_CONF after it (jemalloc takes the last value of an option);
 * test/helpers/service.ts reads this constant. Change them together.
 */
export const CHDB_MALLOC_CONF = 'dirty_decay_ms:1000';
