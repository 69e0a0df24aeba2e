export {
  parseScope,
  parseTokenList,
  resolveAdminToken,
  type Scope,
  type ScopeType,
  type Token,
  TokenConfigError,
  TokenStore,
} from './tokens.js';
