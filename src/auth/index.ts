export { type FixedParams, type JwtToken, signJwt } from './jwt.js';
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
