// Sessions: an opaque random token in a cookie, only its SHA-256 stored; idle and absolute
// lifetimes from system_configuration; revocation takes effect on the next request because
// every request looks the session up.
import crypto from 'node:crypto';
import type { DbClient, DbPool } from '../db/types.ts';

export interface AuthContext {
  userId: string | null;
  /** the role the request runs as */
  role: string;
  roles: string[];
  wallet: string | null;
  sessionId: string | null;
  permissions: Set<string>;
}

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export interface SessionConfig { idleSeconds: number; absoluteSeconds: number; cookieBase: string }

export function sessionConfig(config: Map<string, unknown>): SessionConfig {
  const num = (k: string, d: number) => (Number.isFinite(Number(config.get(k))) && Number(config.get(k)) > 0 ? Number(config.get(k)) : d);
  const base = String(config.get('auth.session.cookie_name') ?? 'carry_session').replace(/[^A-Za-z0-9_-]/g, '') || 'carry_session';
  return { idleSeconds: num('auth.session.idle_timeout_seconds', 86400), absoluteSeconds: num('auth.session.absolute_lifetime_seconds', 604800), cookieBase: base };
}

/** `__Host-` cookies need Secure; on plain-http localhost the prefix is dropped, nothing else. */
export function cookieName(cfg: SessionConfig, secure: boolean): string {
  return secure ? `__Host-${cfg.cookieBase}` : cfg.cookieBase;
}

export function sessionCookie(name: string, token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearCookie(name: string, secure: boolean): string {
  return `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(v) ? v : null;
    }
  }
  return null;
}

export async function createSession(c: DbClient, input: {
  userId: string; method: 'siwe' | 'password'; wallet: string | null; chainId: number | null; ip: string | null; userAgent: string | null; cfg: SessionConfig;
}): Promise<{ token: string; sessionId: string }> {
  const token = newToken();
  const r = await c.query(`INSERT INTO meta.sessions (token_hash, user_id, auth_method, wallet_address, chain_id, expires_at, ip, user_agent)
    VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), $7, $8) RETURNING session_id`,
  [hashToken(token), input.userId, input.method, input.wallet, input.chainId, input.cfg.absoluteSeconds, input.ip, input.userAgent?.slice(0, 500) ?? null]);
  return { token, sessionId: r.rows[0].session_id };
}

export interface SessionRow { session_id: string; user_id: string; wallet_address: string | null; active_role: string | null; roles: string[] }

/** The live session for a token, or null when unknown, revoked, expired or idle too long. */
export async function findSession(pool: DbPool, token: string, cfg: SessionConfig): Promise<SessionRow | null> {
  const r = await pool.query(`UPDATE meta.sessions s SET last_seen_at = now()
    FROM meta.users u
    WHERE s.token_hash = $1 AND u.user_id = s.user_id AND u.is_active AND s.revoked_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - make_interval(secs => $2)
    RETURNING s.session_id, s.user_id::text AS user_id, s.wallet_address,
      (SELECT role_name FROM meta.roles WHERE role_id = s.active_role_id) AS active_role,
      coalesce((SELECT array_agg(r.role_name ORDER BY r.role_id) FROM meta.user_roles ur JOIN meta.roles r ON r.role_id = ur.role_id WHERE ur.user_id = s.user_id), '{}') AS roles`,
  [hashToken(token), cfg.idleSeconds]);
  return r.rows[0] ?? null;
}

export async function revokeSession(pool: DbPool | DbClient, sessionId: string): Promise<void> {
  await pool.query('UPDATE meta.sessions SET revoked_at = now() WHERE session_id = $1 AND revoked_at IS NULL', [sessionId]);
}
