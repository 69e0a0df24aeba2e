import type { Token, TokenStore } from '../auth/index.js';
import type { TableReads } from '../sql/guard.js';

/** Does this token hold DATASOURCES:READ on anything (so /v0/sql may serve it at all)? */
export const readsDatasources = (token: Token) => token.scopes.some((s) => s.type === 'DATASOURCES:READ');

/**
 * Why a DATASOURCES:READ token may not run a statement, or undefined when it may: only a
 * SELECT whose every table is a datasource it may read (or that datasource's quarantine),
 * and no table reached by name outside FROM (x IN t, dictGet). Other databases
 * (system.*, db.t) are refused: the scope names datasources of this workspace.
 */
export function datasourceReadDenied(store: TokenStore, token: Token, reads: TableReads): string | undefined {
  if (!reads.select) return 'a token with DATASOURCES:READ may run SELECT statements only';
  if (reads.opaque)
    return 'a token with DATASOURCES:READ may read tables in FROM and JOIN only (not through IN <table>, dictGet or joinGet)';
  for (const table of reads.tables) {
    const ds = table.replace(/_quarantine$/, '');
    if (table.includes('.') || !store.allows(token, 'DATASOURCES:READ', ds))
      return `The token "${token.name}" lacks the scope DATASOURCES:READ:${ds}`;
  }
  return undefined;
}
