// API tokens for scripts and bots: `Authorization: Bearer carry_<43 base64url chars>`. Each
// token acts as one user in one role the user holds; only its SHA-256 is stored (a 256-bit
// random token needs no slow hash: nothing to brute-force), it is shown once at creation, and
// it stops working when revoked, when it expires, when the user is deactivated, or when the
// user no longer holds its role. Used only while auth.api_tokens_enabled is true.
import crypto from 'node:crypto';
import type { DbClient, DbPool } from '../db/types.ts';
import { apiError } from '../api/errors.ts';
import type { AuthContext } from './sessions.ts';

export const TOKEN_PREFIX = 'carry_';
const TOKEN_RE = /^carry_[A-Za-z0-9_-]{43}$/;
/** Default lifetime: 90 days. A token that never expires must be asked for (ttlSeconds: null). */
export const DEFAULT_TOKEN_TTL_SECONDS = 90 * 86400;
/** How stale last_used_at may get: a busy bot writes the row at most once a minute. */
const TOUCH_EVERY_SECONDS = 60;

export const hashApiToken = (token: string) => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

export function newApiToken(): string {
  return TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
}

export function apiTokensEnabled(config: Map<string, unknown>): boolean {
  return config.get('auth.api_tokens_enabled') === true;
}

export interface CreatedApiToken {
  tokenId: string;
  /** The token itself: show it once, it is not stored. */
  token: string;
  prefix: string;
  role: string;
  expiresAt: Date | null;
}

export class ApiTokenError extends Error {
  constructor(public reason: 'role_not_held' | 'unknown_user' | 'bad_name' | 'bad_ttl' | 'duplicate_name', message: string) { super(message); }
}

/**
 * Creates a token for a user, acting in `role` (which the user must hold). ttlSeconds: lifetime
 * from now, default 90 days; null = until revoked.
 */
export async function createApiToken(c: DbClient | DbPool, input: {
  userId: string; role: string; name: string; ttlSeconds?: number | null;
}): Promise<CreatedApiToken> {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name.length < 1 || name.length > 64) throw new ApiTokenError('bad_name', 'a token name has 1 to 64 characters');
  const ttl = input.ttlSeconds === undefined ? DEFAULT_TOKEN_TTL_SECONDS : input.ttlSeconds;
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 60 || ttl > 10 * 365 * 86400)) {
    throw new ApiTokenError('bad_ttl', 'a token lifetime is a whole number of seconds from 60 to ten years, or null for no expiry');
  }
  const role = await c.query(`SELECT r.role_id::text AS role_id, u.user_id IS NOT NULL AS user_exists,
      EXISTS (SELECT 1 FROM meta.user_roles ur WHERE ur.user_id = u.user_id AND ur.role_id = r.role_id) AS held
    FROM meta.roles r LEFT JOIN meta.users u ON u.user_id = $1 WHERE r.role_name = $2`, [input.userId, input.role]);
  const row = role.rows[0];
  if (row && !row.user_exists) throw new ApiTokenError('unknown_user', `no user ${input.userId}`);
  if (!row || !row.held) throw new ApiTokenError('role_not_held', `the user does not hold the role "${input.role}"`);
  const token = newApiToken();
  const prefix = token.slice(0, 10);
  try {
    const r = await c.query(`INSERT INTO meta.api_tokens (token_name, token_prefix, token_hash, user_id, role_id, expires_at)
      VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $6::integer) END)
      RETURNING token_id::text AS token_id, expires_at`, [name, prefix, hashApiToken(token), input.userId, row.role_id, ttl]);
    return { tokenId: r.rows[0].token_id, token, prefix, role: input.role, expiresAt: r.rows[0].expires_at ? new Date(r.rows[0].expires_at) : null };
  } catch (e) {
    if ((e as { code?: string }).code === '23505' && /api_tokens_name_per_user/.test(String((e as { constraint?: string }).constraint ?? (e as Error).message))) {
      throw new ApiTokenError('duplicate_name', `a token named "${name}" exists already`);
    }
    throw e;
  }
}

/** Revokes a token (of `userId`, when given). True when a live token was revoked now. */
export async function revokeApiToken(c: DbClient | DbPool, tokenId: string, userId?: string): Promise<boolean> {
  if (!/^\d{1,18}$/.test(String(tokenId))) return false;
  const r = await c.query(`UPDATE meta.api_tokens SET revoked_at = now()
    WHERE token_id = $1 AND revoked_at IS NULL AND ($2::bigint IS NULL OR user_id = $2::bigint) RETURNING token_id`, [tokenId, userId ?? null]);
  return r.rows.length === 1;
}

export interface ApiTokenInfo {
  token_id: string; token_name: string; token_prefix: string; role: string;
  created_at: Date; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null;
}

/** A user's tokens, newest first, without hashes. */
export async function listApiTokens(c: DbClient | DbPool, userId: string): Promise<ApiTokenInfo[]> {
  const r = await c.query(`SELECT t.token_id::text AS token_id, t.token_name, t.token_prefix, r.role_name AS role,
      t.created_at, t.expires_at, t.revoked_at, t.last_used_at
    FROM meta.api_tokens t JOIN meta.roles r ON r.role_id = t.role_id WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.token_id DESC`, [userId]);
  return r.rows as ApiTokenInfo[];
}

/** The token in an `Authorization: Bearer carry_…` header; null for any other header. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const h = Array.isArray(header) ? header[0] : header;
  if (typeof h !== 'string') return null;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(h);
  return m && m[1].startsWith(TOKEN_PREFIX) ? m[1] : null;
}

/**
 * Who a bearer token acts as. Returns null when there is no `Bearer carry_…` header or API
 * tokens are disabled (the request then goes on as before: session cookie or anonymous).
 * Throws C505 (401, details.reason 'token_invalid') when tokens are enabled and the token is
 * malformed, unknown, revoked or expired, or its user is inactive or no longer holds its role:
 * a client that presents a credential is told it failed, rather than served as anonymous.
 */
export async function authenticateBearer(pool: DbPool, header: string | string[] | undefined, config: Map<string, unknown>): Promise<{ userId: string; role: string; tokenId: string } | null> {
  const token = bearerToken(header);
  if (!token || !apiTokensEnabled(config)) return null;
  const refuse = () => apiError('C505', 'The API token is unknown, expired or revoked', { reason: 'token_invalid' },
    'Create a new token (POST /auth/tokens while signed in) and send it as Authorization: Bearer carry_…');
  if (!TOKEN_RE.test(token)) throw refuse();
  // One round trip: find the live token, and touch last_used_at only when it is stale (an
  // UPDATE matching no row writes nothing).
  const r = await pool.query(`WITH t AS (
      SELECT t.token_id, t.user_id, r.role_name FROM meta.api_tokens t
        JOIN meta.users u ON u.user_id = t.user_id AND u.is_active
        JOIN meta.roles r ON r.role_id = t.role_id
        JOIN meta.user_roles ur ON ur.user_id = t.user_id AND ur.role_id = t.role_id
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
    ), touch AS (
      UPDATE meta.api_tokens a SET last_used_at = now() FROM t
      WHERE a.token_id = t.token_id AND (a.last_used_at IS NULL OR a.last_used_at < now() - make_interval(secs => $2))
      RETURNING a.token_id
    )
    SELECT t.token_id::text AS token_id, t.user_id::text AS user_id, t.role_name, (SELECT count(*) FROM touch) AS touched FROM t`,
  [hashApiToken(token), TOUCH_EVERY_SECONDS]);
  const row = r.rows[0];
  if (!row) throw refuse();
  return { userId: row.user_id, role: row.role_name, tokenId: row.token_id };
}

/**
 * The request context of a token: its one role and that role's permissions. A token is not a
 * session (sessionId null), so routes that need a browser session (enrolling a second factor,
 * creating tokens) refuse it.
 */
export function bearerAuthContext(rules: { roles: Map<string, { permissions: Set<string> }> }, found: { userId: string; role: string }): AuthContext {
  return { userId: found.userId, role: found.role, roles: [found.role], wallet: null, sessionId: null, permissions: rules.roles.get(found.role)?.permissions ?? new Set() };
}
