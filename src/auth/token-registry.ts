import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScope, type Scope, type Token, TokenConfigError, type TokenStore } from './tokens.js';

export class TokenRequestError extends Error {
  override name = 'TokenRequestError';
  constructor(
    message: string,
    readonly status: 400 | 403 | 404,
  ) {
    super(message);
  }
}

/**
 * Tokens made through /v0/tokens, kept in DATA_DIR/tokens.json (rewritten whole, through a
 * temporary file and a rename, so a crash leaves the old file or the new one). The admin
 * token and TB_TOKENS come from the environment: listed, never changed or deleted here.
 */
export class TokenRegistry {
  private readonly file: string;
  private readonly saved = new Map<string, Token>();
  private readonly fixed: Set<string>;

  constructor(
    private readonly store: TokenStore,
    dataDir: string,
  ) {
    this.file = join(dataDir, 'tokens.json');
    this.fixed = new Set(store.list().map((t) => t.name));
    mkdirSync(dataDir, { recursive: true });
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      // no tokens created yet
    }
    if (text === undefined) return;
    let list: { tokens?: Token[] };
    try {
      list = JSON.parse(text) as { tokens?: Token[] };
    } catch (err) {
      throw new TokenConfigError(
        `${this.file} is not valid JSON (${(err as Error).message}): fix or remove it`,
      );
    }
    for (const t of list.tokens ?? []) {
      if (this.fixed.has(t.name)) continue; // an env token of that name now wins
      this.saved.set(t.name, t);
      store.add(t);
    }
  }

  list(): Token[] {
    return this.store.list();
  }

  get(nameOrToken: string): Token {
    const t = this.store.list().find((x) => x.name === nameOrToken || x.token === nameOrToken);
    if (!t) throw new TokenRequestError(`The token "${nameOrToken}" does not exist`, 404);
    return t;
  }

  create(name: string, scopes: string[]): Token {
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name))
      throw new TokenRequestError('Parameter "name": letters, digits, "_", "." and "-", up to 128', 400);
    if (this.store.list().some((t) => t.name === name))
      throw new TokenRequestError(`A token named "${name}" already exists: refresh or delete it`, 400);
    if (scopes.length === 0)
      throw new TokenRequestError('Parameter "scope" is required, e.g. scope=PIPES:READ:top_features', 400);
    const parsed: Scope[] = [];
    for (const s of scopes) {
      try {
        parsed.push(parseScope(s));
      } catch (err) {
        if (err instanceof TokenConfigError) throw new TokenRequestError(err.message, 400);
        throw err;
      }
    }
    const token = { name, token: newTokenValue(), scopes: parsed };
    this.saved.set(name, token);
    this.store.add(token);
    this.save();
    return token;
  }

  refresh(nameOrToken: string): Token {
    const old = this.mutable(nameOrToken);
    const token = { ...old, token: newTokenValue() };
    this.store.remove(old.token);
    this.store.add(token);
    this.saved.set(token.name, token);
    this.save();
    return token;
  }

  delete(nameOrToken: string): void {
    const t = this.mutable(nameOrToken);
    this.store.remove(t.token);
    this.saved.delete(t.name);
    this.save();
  }

  private mutable(nameOrToken: string): Token {
    const t = this.get(nameOrToken);
    if (this.fixed.has(t.name))
      throw new TokenRequestError(
        `The token "${t.name}" comes from the environment (TB_ADMIN_TOKEN, TB_TOKENS): change it there`,
        403,
      );
    return t;
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ tokens: [...this.saved.values()] }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

const newTokenValue = () => `p.${randomBytes(24).toString('base64url')}`;
