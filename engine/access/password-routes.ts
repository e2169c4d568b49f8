// Optional sign-in methods besides SIWE, each off until system_configuration turns it on:
//   POST   /auth/password               {username, password, totp?} → a session cookie (auth.password_auth_enabled)
//   POST   /auth/password/totp-setup    {totp?}  signed in: a new TOTP secret, shown once, pending
//   POST   /auth/password/totp-confirm  {totp}   signed in: a code from the pending secret makes it active
//   POST   /auth/tokens                 {name, role?, expires_in_seconds?} signed in: a bearer token, shown once (auth.api_tokens_enabled)
//   GET    /auth/tokens                 signed in: your tokens (never the token or its hash)
//   DELETE /auth/tokens/:id             signed in: revoke one of your tokens
// A second factor is required when the user has a TOTP secret, or holds (or inherits) a role
// listed in auth.mfa_required_roles. A refused password sign-in says only "invalid_credentials"
// whichever check failed (unknown user, wrong password, missing, wrong or replayed code), so the
// answer never confirms a password on its own; the audit row names the real reason.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../engine.ts';
import { ApiError, apiError } from '../api/errors.ts';
import { appendAudit } from '../audit/chain.ts';
import type { MasterKey } from '../secrets/index.ts';
import { cookieName, createSession, sessionConfig, sessionCookie } from './sessions.ts';
import { audit, sessionBody } from './routes.ts';
import { hashPassword, needsRehash, PASSWORD_MAX_LENGTH, verifyPassword, warmPasswordHashing } from './password.ts';
import { consumeTotpStep, generateTotpSecret, normaliseCode, openTotp, otpauthUri, sealTotp, TOTP_DEFAULTS, verifyTotp, base32Encode } from './totp.ts';
import { ApiTokenError, apiTokensEnabled, createApiToken, listApiTokens, revokeApiToken } from './api-tokens.ts';

type Keys = MasterKey | MasterKey[];

export interface PasswordAuthOptions {
  /** Keys that seal and open TOTP secrets (the first one seals); default: the engine's (engine.keys). */
  masterKey?: Keys | (() => Keys);
  /** Clock in milliseconds, for tests; default Date.now. */
  now?: () => number;
}

const DEFAULT_MFA_ROLES = ['operator', 'developer'];

export function passwordAuthEnabled(config: Map<string, unknown>): boolean {
  return config.get('auth.password_auth_enabled') === true;
}

/** auth.mfa_required_roles; a missing or malformed value means the shipped default, never "none". */
export function mfaRequiredRoles(config: Map<string, unknown>): string[] {
  const v = config.get('auth.mfa_required_roles');
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : DEFAULT_MFA_ROLES;
}

/** True when any role held, or any role it inherits from, is listed. */
export function rolesRequireMfa(held: string[], listed: string[], roles: Map<string, { lineage: string[] }>): boolean {
  return held.some((r) => (roles.get(r)?.lineage ?? [r]).some((x) => listed.includes(x)));
}


function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}

/** Routes that change a signed-in user's own credentials need a browser session, not a token. */
function requireSession(req: FastifyRequest): string {
  if (!req.auth.userId || !req.auth.sessionId) {
    throw apiError('C500', 'Sign in (with a session, not an API token) to manage your sign-in methods', { entity: 'auth' });
  }
  return req.auth.userId;
}

export function registerPasswordAuth(app: FastifyInstance, engine: Engine, opts: PasswordAuthOptions = {}): void {
  const now = opts.now ?? Date.now;
  const keys = (): Keys => {
    if (typeof opts.masterKey === 'function') return opts.masterKey();
    if (opts.masterKey) return opts.masterKey;
    return engine.keys.get();
  };
  const sealingKey = () => { const k = keys(); return Array.isArray(k) ? k[0] : k; };
  const log = () => engine.logs.module('access');
  // The dummy hash for unknown users, made now rather than during the first sign-in.
  warmPasswordHashing().catch(() => {});

  const disabled = () => apiError('C505', 'Password sign-in is not enabled here (system_configuration auth.password_auth_enabled is false)',
    { reason: 'password_disabled' }, 'Sign in with your wallet (GET /auth/nonce, then POST /auth/verify).');

  app.post('/auth/password', async (req: FastifyRequest, reply: FastifyReply) => {
    engine.access.checkOrigin(req);
    const config = engine.store.current.config;
    const b = body(req);
    const username = typeof b.username === 'string' ? b.username.slice(0, 64) : null;
    const fail = async (reason: string, userId: string | null = null) => {
      await audit(engine, req, 'sign_in_failed', { method: 'password', reason, username }, userId);
      return reason === 'password_disabled' ? disabled()
        : apiError('C505', 'Wrong username, password or authenticator code', { reason: 'invalid_credentials' },
          'Check the username and password; accounts with two-factor sign-in also need the current code from the authenticator app, as "totp".');
    };
    if (!passwordAuthEnabled(config)) throw await fail('password_disabled');
    if (typeof b.username !== 'string' || b.username.length < 1 || b.username.length > 64
      || typeof b.password !== 'string' || b.password.length < 1 || b.password.length > PASSWORD_MAX_LENGTH
      || (b.totp !== undefined && b.totp !== null && typeof b.totp !== 'string')) {
      throw apiError('C303', `POST /auth/password takes {"username": text, "password": text (at most ${PASSWORD_MAX_LENGTH} characters), "totp": "123456" when two-factor sign-in is on}`, { location: 'body' });
    }
    const password = b.password;
    const user = (await engine.db.pool.query(`SELECT u.user_id::text AS id, u.hashed_password, u.is_active, u.mfa_secret_encrypted,
        u.mfa_last_used_step::text AS last_step,
        coalesce((SELECT array_agg(r.role_name ORDER BY r.role_name) FROM meta.user_roles ur JOIN meta.roles r ON r.role_id = ur.role_id
          WHERE ur.user_id = u.user_id), '{}') AS roles
      FROM meta.users u WHERE lower(u.username) = lower($1)`, [b.username])).rows[0] as
      { id: string; hashed_password: string | null; is_active: boolean; mfa_secret_encrypted: string | null; last_step: string | null; roles: string[] } | undefined;
    // Always one argon2 verification, also for an unknown user (against a dummy hash).
    const ok = await verifyPassword(user?.hashed_password, password);
    if (!user || !ok) throw await fail('invalid_credentials', user?.id ?? null);
    if (!user.is_active) throw await fail('inactive', user.id);

    let step: number | null = null;
    const mustMfa = user.mfa_secret_encrypted !== null || rolesRequireMfa(user.roles, mfaRequiredRoles(config), engine.access.rules.roles);
    if (mustMfa) {
      if (user.mfa_secret_encrypted === null) throw await fail('mfa_enrolment_required', user.id);
      const code = normaliseCode(b.totp);
      if (code === null) throw await fail('totp_required', user.id);
      let stored;
      try {
        stored = openTotp(user.mfa_secret_encrypted, user.id, keys());
      } catch (e) {
        log().error({ err: (e as Error).message, user_id: user.id }, 'TOTP secret cannot be opened: check CARRY_MASTER_KEY');
        throw await fail('mfa_unavailable', user.id);
      }
      const check = verifyTotp(stored.secret, code, { ...stored, now: now() / 1000, lastStep: user.last_step === null ? null : Number(user.last_step) });
      stored.secret.fill(0);
      if (!check.ok) throw await fail(check.reason === 'replayed' ? 'totp_replayed' : 'totp_invalid', user.id);
      step = check.step;
    }

    // Hash outside the transaction: PGlite has one connection, argon2 takes tens of ms.
    const rehashed = user.hashed_password && needsRehash(user.hashed_password) ? await hashPassword(password) : null;
    const scfg = sessionConfig(config);
    const result = await engine.db.tx(async (c) => {
      // The step is taken in the transaction that creates the session: two sign-ins sent with
      // one code at the same time get one session between them.
      if (step !== null && !(await consumeTotpStep(c, user.id, step))) return { replayed: true as const };
      const active = await c.query('UPDATE meta.users SET last_login_at = now() WHERE user_id = $1 AND is_active RETURNING user_id', [user.id]);
      if (!active.rows.length) return { inactive: true as const };
      if (rehashed) await c.query('UPDATE meta.users SET hashed_password = $2 WHERE user_id = $1 AND hashed_password = $3', [user.id, rehashed, user.hashed_password]);
      const s = await createSession(c, { userId: user.id, method: 'password', wallet: null, chainId: null, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? ''), cfg: scfg });
      await appendAudit(c, {
        userId: user.id, roleName: req.auth.role, action: 'sign_in', entity: 'auth', requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? ''),
        details: { method: 'password', mfa: step !== null, session_id: s.sessionId, rehashed: rehashed !== null },
      });
      return s;
    });
    if ('replayed' in result) throw await fail('totp_replayed', user.id);
    if ('inactive' in result) throw await fail('inactive', user.id);
    const secure = engine.access.secure();
    reply.header('set-cookie', sessionCookie(cookieName(scfg, secure), result.token, scfg.absoluteSeconds, secure));
    reply.header('cache-control', 'no-store');
    req.auth = await engine.access.authenticateToken(result.token);
    return sessionBody(engine, req);
  });

  // Enrolment. A user who already has a second factor must show a code from it first, so a
  // stolen session cannot swap the factor for the thief's.
  app.post('/auth/password/totp-setup', async (req, reply) => {
    engine.access.checkOrigin(req);
    if (!passwordAuthEnabled(engine.store.current.config)) throw disabled();
    const userId = requireSession(req);
    const u = (await engine.db.pool.query(`SELECT username, mfa_secret_encrypted, mfa_last_used_step::text AS last_step FROM meta.users WHERE user_id = $1`, [userId])).rows[0];
    if (!u) throw apiError('C500', 'Sign in again', { entity: 'auth' });
    let step: number | null = null;
    if (u.mfa_secret_encrypted) {
      const code = normaliseCode(body(req).totp);
      if (code === null) throw apiError('C505', 'You have two-factor sign-in already: send a current code from it as "totp" to replace it', { reason: 'totp_required' });
      const stored = openTotp(u.mfa_secret_encrypted, userId, keysOr500(keys));
      const check = verifyTotp(stored.secret, code, { ...stored, now: now() / 1000, lastStep: u.last_step === null ? null : Number(u.last_step) });
      if (!check.ok) {
        await audit(engine, req, 'mfa_enrolment_refused', { reason: check.reason }, userId);
        throw apiError('C505', 'The code is wrong, expired or already used', { reason: check.reason === 'replayed' ? 'totp_replayed' : 'totp_invalid' });
      }
      step = check.step;
    }
    const secret = generateTotpSecret(TOTP_DEFAULTS.algorithm);
    const sealed = sealTotp({ secret, ...TOTP_DEFAULTS }, userId, keysOr500(sealingKey), 'mfa_pending_secret_encrypted');
    const ok = await engine.db.tx(async (c) => {
      if (step !== null && !(await consumeTotpStep(c, userId, step))) return false;
      await c.query('UPDATE meta.users SET mfa_pending_secret_encrypted = $2 WHERE user_id = $1', [userId, sealed]);
      await appendAudit(c, { userId, roleName: req.auth.role, action: 'mfa_enrolment_started', entity: 'auth', details: { method: 'totp' }, requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '') });
      return true;
    });
    if (!ok) throw apiError('C505', 'The code is wrong, expired or already used', { reason: 'totp_replayed' });
    const issuer = typeof engine.store.current.config.get('app.name') === 'string' ? String(engine.store.current.config.get('app.name')) : 'Carry';
    reply.header('cache-control', 'no-store');
    const out = {
      otpauth_uri: otpauthUri({ secret, account: u.username, issuer, ...TOTP_DEFAULTS }),
      secret: base32Encode(secret), algorithm: TOTP_DEFAULTS.algorithm, digits: TOTP_DEFAULTS.digits, period: TOTP_DEFAULTS.period,
      next: 'POST /auth/password/totp-confirm {"totp": a code from the app}; until then the current setting stays',
    };
    secret.fill(0);
    return out;
  });

  app.post('/auth/password/totp-confirm', async (req) => {
    engine.access.checkOrigin(req);
    if (!passwordAuthEnabled(engine.store.current.config)) throw disabled();
    const userId = requireSession(req);
    const code = normaliseCode(body(req).totp);
    if (code === null) throw apiError('C303', 'POST /auth/password/totp-confirm takes {"totp": "123456"}', { location: 'body' });
    const u = (await engine.db.pool.query(`SELECT mfa_pending_secret_encrypted AS pending, mfa_last_used_step::text AS last_step FROM meta.users WHERE user_id = $1`, [userId])).rows[0];
    if (!u?.pending) throw apiError('C303', 'Nothing to confirm: start with POST /auth/password/totp-setup', { location: 'body', reason: 'no_pending_secret' });
    const stored = openTotp(u.pending, userId, keysOr500(keys), 'mfa_pending_secret_encrypted');
    const check = verifyTotp(stored.secret, code, { ...stored, now: now() / 1000, lastStep: u.last_step === null ? null : Number(u.last_step) });
    if (!check.ok) {
      await audit(engine, req, 'mfa_enrolment_refused', { reason: check.reason }, userId);
      throw apiError('C505', 'The code is wrong, expired or already used: check the app shows the account just added, and the device clock', { reason: check.reason === 'replayed' ? 'totp_replayed' : 'totp_invalid' });
    }
    // Re-sealed for the active column: the AAD names the column, so the two never mix.
    const active = sealTotp(stored, userId, keysOr500(sealingKey), 'mfa_secret_encrypted');
    stored.secret.fill(0);
    const done = await engine.db.tx(async (c) => {
      if (!(await consumeTotpStep(c, userId, check.step))) return false;
      const r = await c.query(`UPDATE meta.users SET mfa_secret_encrypted = $2, mfa_pending_secret_encrypted = NULL, mfa_enabled_at = now()
        WHERE user_id = $1 AND mfa_pending_secret_encrypted = $3 RETURNING user_id`, [userId, active, u.pending]);
      if (!r.rows.length) return false;
      await appendAudit(c, { userId, roleName: req.auth.role, action: 'mfa_enabled', entity: 'auth', details: { method: 'totp' }, requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '') });
      return true;
    });
    if (!done) throw apiError('C505', 'The code was already used, or the enrolment changed meanwhile: start again', { reason: 'totp_replayed' });
    return { mfa_enabled: true };
  });
}

/** Resolves the master key, or a clear error that says how to fix it. */
function keysOr500<T>(get: () => T): T {
  try {
    return get();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw apiError('C900', `Two-factor sign-in needs the master key: ${(e as Error).message}`, { reason: 'master_key' });
  }
}

export function registerApiTokenRoutes(app: FastifyInstance, engine: Engine): void {
  const disabled = () => apiError('C505', 'API tokens are not enabled here (system_configuration auth.api_tokens_enabled is false)', { reason: 'api_tokens_disabled' }, 'Ask an operator to enable auth.api_tokens_enabled.');

  app.post('/auth/tokens', async (req, reply) => {
    engine.access.checkOrigin(req);
    if (!apiTokensEnabled(engine.store.current.config)) throw disabled();
    const userId = requireSession(req);
    const b = body(req);
    const ttl = b.expires_in_seconds === undefined ? undefined : b.expires_in_seconds;
    if (typeof b.name !== 'string' || (b.role !== undefined && typeof b.role !== 'string') || (ttl !== undefined && ttl !== null && typeof ttl !== 'number')) {
      throw apiError('C303', 'POST /auth/tokens takes {"name": text, "role": one of your roles (default: the current one), "expires_in_seconds": number or null (default 90 days)}', { location: 'body' });
    }
    const role = (b.role as string | undefined) ?? req.auth.role;
    try {
      const t = await engine.db.tx(async (c) => {
        const made = await createApiToken(c, { userId, role, name: b.name as string, ttlSeconds: ttl as number | null | undefined });
        await appendAudit(c, { userId, roleName: req.auth.role, action: 'api_token_created', entity: 'auth', recordKey: made.tokenId,
          details: { prefix: made.prefix, role: made.role, expires_at: made.expiresAt }, requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '') });
        return made;
      });
      reply.header('cache-control', 'no-store');
      reply.code(201);
      return { token_id: t.tokenId, token: t.token, token_prefix: t.prefix, role: t.role, expires_at: t.expiresAt };
    } catch (e) {
      if (e instanceof ApiTokenError) throw apiError(e.reason === 'duplicate_name' ? 'C400' : 'C303', e.message, { reason: e.reason, location: 'body' });
      throw e;
    }
  });

  app.get('/auth/tokens', async (req, reply) => {
    const userId = requireSession(req);
    reply.header('cache-control', 'no-store');
    return listApiTokens(engine.db.pool, userId);
  });

  app.delete('/auth/tokens/:id', async (req) => {
    engine.access.checkOrigin(req);
    const userId = requireSession(req);
    const id = String((req.params as { id: string }).id);
    const revoked = await engine.db.tx(async (c) => {
      const ok = await revokeApiToken(c, id, userId);
      if (ok) await appendAudit(c, { userId, roleName: req.auth.role, action: 'api_token_revoked', entity: 'auth', recordKey: id, details: {}, requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '') });
      return ok;
    });
    if (!revoked) throw apiError('C901', `You have no live token ${id}`, { path: `/auth/tokens/${id}` });
    return { revoked: true, token_id: id };
  });
}
