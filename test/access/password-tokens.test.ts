// Password + TOTP sign-in and API tokens over real HTTP: both off by default, turned on live by
// editing system_configuration rows. Real argon2id hashes, real TOTP codes from the enrolled
// secret, real sessions and bearer tokens.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, sessionConfig } from '../../engine/access/sessions.ts';
import { hashPassword } from '../../engine/access/password.ts';
import { base32Decode, consumeTotpStep, totpAtStep, totpStep } from '../../engine/access/totp.ts';
import { authenticateBearer, bearerAuthContext, createApiToken, hashApiToken } from '../../engine/access/api-tokens.ts';
import { startTestServer, waitFor, type TestServer } from '../helpers/engine.ts';
import { ORIGIN, sessionWithRole } from '../helpers/auth.ts';

// In-memory PGlite has no folder for a key file: the engine's master key comes from the environment
// (this file runs in its own process).
process.env.CARRY_MASTER_KEY ??= crypto.randomBytes(32).toString('hex');

async function startServer(): Promise<TestServer> {
  return startTestServer();
}

let s: TestServer;
beforeAll(async () => { s = await startServer(); });
afterAll(async () => { await s?.close(); });

const PASSWORD = 'correct horse battery staple';

/** A user with a password, holding `role`. */
async function passwordUser(role: string, username = `${role}_${crypto.randomBytes(3).toString('hex')}`) {
  const hashed = await hashPassword(PASSWORD);
  const u = await s.sql(`INSERT INTO meta.users (username, hashed_password) VALUES ($1, $2) RETURNING user_id::text AS id`, [username, hashed]);
  await s.sql(`INSERT INTO meta.user_roles (user_id, role_id) SELECT $1, role_id FROM meta.roles WHERE role_name = $2`, [u.rows[0].id, role]);
  return { username, userId: u.rows[0].id as string };
}

/** A session cookie for an existing user (as if signed in some other way, e.g. SIWE). */
async function cookieFor(userId: string): Promise<string> {
  const cfg = sessionConfig(s.engine.store.current.config);
  const c = await s.engine.db.pool.connect();
  try {
    const { token } = await createSession(c, { userId, method: 'siwe', wallet: null, chainId: null, ip: null, userAgent: 'test', cfg });
    return `${cfg.cookieBase}=${token}`;
  } finally {
    c.release();
  }
}

const signIn = (body: Record<string, unknown>) => s.http('/auth/password', { method: 'POST', json: body, headers: { origin: ORIGIN } });
const post = (p: string, cookie: string, json: unknown = {}) => s.http(p, { method: 'POST', json, headers: { origin: ORIGIN, cookie } });
const lastAudit = async (action: string) => (await s.sql(`SELECT user_id::text AS user_id, details_json FROM meta.action_logs WHERE action = $1 ORDER BY log_id DESC LIMIT 1`, [action])).rows[0];

/** A code that no step near now gives. */
function wrongCode(secret: Buffer): string {
  const now = totpStep(Date.now() / 1000);
  const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((d) => totpAtStep(secret, now + d)));
  for (let i = 0; ; i++) { const c = String(i).padStart(6, '0'); if (!near.has(c)) return c; }
}

async function setConfig(key: string, value: unknown) {
  await s.sql(`UPDATE meta.system_configuration SET config_value = $2::jsonb WHERE config_key = $1`, [key, JSON.stringify(value)]);
  await waitFor(() => JSON.stringify(s.engine.store.current.config.get(key)) === JSON.stringify(value));
}

describe('while system_configuration leaves them off (the default)', () => {
  it('refuses password sign-in with C505 password_disabled, and audits it', async () => {
    expect(s.engine.store.current.config.get('auth.password_auth_enabled')).toBe(false);
    const { username } = await passwordUser('trader');
    const res = await signIn({ username, password: PASSWORD });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatchObject({ code: 'C505', details: { reason: 'password_disabled' } });
    expect(res.headers.get('set-cookie')).toBeNull();
    expect((await lastAudit('sign_in_failed')).details_json).toMatchObject({ method: 'password', reason: 'password_disabled', username });
  });

  it('refuses TOTP enrolment and token creation', async () => {
    const { cookie } = await sessionWithRole(s, 'trader');
    expect((await (await post('/auth/password/totp-setup', cookie)).json()).error.details.reason).toBe('password_disabled');
    const t = await post('/auth/tokens', cookie, { name: 'bot' });
    expect(t.status).toBe(401);
    expect((await t.json()).error.details.reason).toBe('api_tokens_disabled');
  });

  it('ignores a bearer token: the request is anonymous', async () => {
    const { userId } = await sessionWithRole(s, 'trader');
    const { token } = await createApiToken(s.engine.db.pool, { userId, role: 'trader', name: 'bot' });
    const auth = { authorization: `Bearer ${token}` };
    const res = await s.http('/api/positions', { headers: auth });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('C500');
    expect(await (await s.http('/auth/session', { headers: auth })).json()).toMatchObject({ signed_in: false, role: 'anonymous' });
    const row = await s.sql('SELECT last_used_at FROM meta.api_tokens WHERE token_hash = $1', [hashApiToken(token)]);
    expect(row.rows[0].last_used_at).toBeNull();
  });
});

describe('password sign-in, once auth.password_auth_enabled is true', () => {
  beforeAll(async () => { await setConfig('auth.password_auth_enabled', true); });

  it('signs a trader in with a password alone: a password session, the same cookie as SIWE', async () => {
    const { username, userId } = await passwordUser('trader');
    const res = await signIn({ username: username.toUpperCase(), password: PASSWORD });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ signed_in: true, user_id: userId, role: 'trader', wallet_address: null });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^carry_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await (await s.http('/auth/session', { headers: { cookie: cookie.split(';')[0] } })).json()).toMatchObject({ signed_in: true, user_id: userId });
    const row = await s.sql(`SELECT auth_method, wallet_address FROM meta.sessions WHERE user_id = $1`, [userId]);
    expect(row.rows).toEqual([{ auth_method: 'password', wallet_address: null }]);
    expect((await lastAudit('sign_in')).details_json).toMatchObject({ method: 'password', mfa: false });
    expect((await lastAudit('sign_in')).user_id).toBe(userId);
  });

  it('answers a wrong password and an unknown user alike, and audits the attempt', async () => {
    const { username, userId } = await passwordUser('trader');
    const wrong = await signIn({ username, password: 'not the password at all' });
    const unknown = await signIn({ username: 'nobody_here', password: PASSWORD });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      const err = (await res.json()).error;
      expect(err).toMatchObject({ code: 'C505', details: { reason: 'invalid_credentials' } });
      expect(err.message).toBe('Wrong username, password or authenticator code');
    }
    const audits = await s.sql(`SELECT user_id::text AS user_id, details_json FROM meta.action_logs WHERE action = 'sign_in_failed' ORDER BY log_id DESC LIMIT 2`);
    expect(audits.rows.map((r) => [r.user_id, r.details_json.reason, r.details_json.username])).toEqual([[null, 'invalid_credentials', 'nobody_here'], [userId, 'invalid_credentials', username]]);
    for (const a of audits.rows) expect(JSON.stringify(a.details_json)).not.toContain(PASSWORD);
  });

  it('refuses a wallet-only user, a disabled account, a malformed body and another origin', async () => {
    await s.sql(`INSERT INTO meta.users (username) VALUES ('wallet_only')`);
    expect((await signIn({ username: 'wallet_only', password: PASSWORD })).status).toBe(401);
    const { username, userId } = await passwordUser('trader');
    await s.sql('UPDATE meta.users SET is_active = false WHERE user_id = $1', [userId]);
    expect((await signIn({ username, password: PASSWORD })).status).toBe(401);
    expect((await lastAudit('sign_in_failed')).details_json.reason).toBe('inactive');
    expect((await (await signIn({ username, password: 42 })).json()).error.code).toBe('C303');
    const cross = await s.http('/auth/password', { method: 'POST', json: { username, password: PASSWORD }, headers: { origin: 'https://evil.example' } });
    expect((await cross.json()).error.code).toBe('C504');
  });

  describe('with a second factor', () => {
    let op: { username: string; userId: string };
    let secret: Buffer;
    let used: number; // the step of the code that signed in

    it('refuses an operator (auth.mfa_required_roles) who has not enrolled TOTP, even with the right password', async () => {
      op = await passwordUser('operator');
      const res = await signIn({ username: op.username, password: PASSWORD });
      expect(res.status).toBe(401);
      expect((await res.json()).error.details.reason).toBe('invalid_credentials');
      expect((await lastAudit('sign_in_failed')).details_json.reason).toBe('mfa_enrolment_required');
    });

    it('enrols: an otpauth URI once, a pending secret sealed for the row, active after a code', async () => {
      const cookie = await cookieFor(op.userId);
      const res = await post('/auth/password/totp-setup', cookie);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.json();
      expect(body.otpauth_uri).toMatch(new RegExp(`^otpauth://totp/Carry:${op.username}\\?secret=[A-Z2-7]{32}&issuer=Carry&algorithm=SHA1&digits=6&period=30$`));
      secret = base32Decode(new URL(body.otpauth_uri).searchParams.get('secret')!);
      const row = (await s.sql('SELECT mfa_secret_encrypted, mfa_pending_secret_encrypted FROM meta.users WHERE user_id = $1', [op.userId])).rows[0];
      expect(row.mfa_secret_encrypted).toBeNull();
      expect(row.mfa_pending_secret_encrypted).toMatch(/^cs1\./);
      expect(row.mfa_pending_secret_encrypted).not.toContain(body.secret);

      expect((await post('/auth/password/totp-confirm', cookie, { totp: wrongCode(secret) })).status).toBe(401);
      const step = totpStep(Date.now() / 1000);
      const ok = await post('/auth/password/totp-confirm', cookie, { totp: totpAtStep(secret, step) });
      expect(ok.status, await ok.clone().text()).toBe(200);
      const after = (await s.sql('SELECT mfa_secret_encrypted, mfa_pending_secret_encrypted, mfa_last_used_step::int AS step FROM meta.users WHERE user_id = $1', [op.userId])).rows[0];
      expect(after.mfa_secret_encrypted).toMatch(/^cs1\./);
      expect(after.mfa_pending_secret_encrypted).toBeNull();
      expect(after.step).toBe(step);
      used = step;
      expect((await lastAudit('mfa_enabled')).user_id).toBe(op.userId);
    });

    it('refuses the password without a code, or with a wrong one', async () => {
      const none = await signIn({ username: op.username, password: PASSWORD });
      expect(none.status).toBe(401);
      expect((await none.json()).error.details.reason).toBe('invalid_credentials');
      expect((await lastAudit('sign_in_failed')).details_json.reason).toBe('totp_required');
      const right = totpAtStep(secret, used + 1);
      expect((await signIn({ username: op.username, password: PASSWORD, totp: wrongCode(secret) })).status).toBe(401);
      expect((await lastAudit('sign_in_failed')).details_json.reason).toBe('totp_invalid');
      // A right code with a wrong password says nothing more than a wrong password.
      expect((await signIn({ username: op.username, password: 'wrong wrong wrong', totp: right })).status).toBe(401);
      expect((await lastAudit('sign_in_failed')).details_json.reason).toBe('invalid_credentials');
    });

    it('signs the operator in with password and code, once: the same code again is refused', async () => {
      // The code of the step after the one enrolment used: within the ±1 step window of now.
      const code = totpAtStep(secret, used + 1);
      const res = await signIn({ username: op.username, password: PASSWORD, totp: code });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toMatchObject({ signed_in: true, user_id: op.userId, role: 'operator' });
      expect((await lastAudit('sign_in')).details_json).toMatchObject({ method: 'password', mfa: true });

      const again = await signIn({ username: op.username, password: PASSWORD, totp: code });
      expect(again.status).toBe(401);
      expect((await again.json()).error.details.reason).toBe('invalid_credentials');
      expect((await lastAudit('sign_in_failed')).details_json.reason).toBe('totp_replayed');
      // An older code than the last one used is refused too.
      expect((await signIn({ username: op.username, password: PASSWORD, totp: totpAtStep(secret, used) })).status).toBe(401);
    });

    it('takes each step once when requests race for it', async () => {
      const last = Number((await s.sql('SELECT mfa_last_used_step FROM meta.users WHERE user_id = $1', [op.userId])).rows[0].mfa_last_used_step);
      const wins = await Promise.all([1, 2, 3].map(() => consumeTotpStep(s.engine.db.pool, op.userId, last + 5)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      await s.sql('UPDATE meta.users SET mfa_last_used_step = $2 WHERE user_id = $1', [op.userId, last]);
    });

    it('asks for a current code before replacing an enrolled secret', async () => {
      const cookie = await cookieFor(op.userId);
      const res = await post('/auth/password/totp-setup', cookie);
      expect(res.status).toBe(401);
      expect((await res.json()).error.details.reason).toBe('totp_required');
      const pending = await s.sql('SELECT mfa_pending_secret_encrypted FROM meta.users WHERE user_id = $1', [op.userId]);
      expect(pending.rows[0].mfa_pending_secret_encrypted).toBeNull();
    });

    it('requires a code from anyone who enrolled, whatever their role', async () => {
      const { username, userId } = await passwordUser('trader');
      const cookie = await cookieFor(userId);
      const uri = (await (await post('/auth/password/totp-setup', cookie)).json()).otpauth_uri;
      const sec = base32Decode(new URL(uri).searchParams.get('secret')!);
      const step = totpStep(Date.now() / 1000);
      expect((await post('/auth/password/totp-confirm', cookie, { totp: totpAtStep(sec, step) })).status).toBe(200);
      expect((await signIn({ username, password: PASSWORD })).status).toBe(401);
      expect((await signIn({ username, password: PASSWORD, totp: totpAtStep(sec, step + 1) })).status).toBe(200);
    });
  });
});

describe('API tokens, once auth.api_tokens_enabled is true', () => {
  let trader: { cookie: string; userId: string };
  let token: string;
  let tokenId: string;
  beforeAll(async () => {
    await setConfig('auth.api_tokens_enabled', true);
    trader = await sessionWithRole(s, 'trader');
  });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('creates a token shown once, stored as its SHA-256 with role and expiry', async () => {
    const res = await post('/auth/tokens', trader.cookie, { name: 'grafana', expires_in_seconds: 3600 });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = await res.json();
    expect(body.token).toMatch(/^carry_[A-Za-z0-9_-]{43}$/);
    expect(body).toMatchObject({ role: 'trader', token_prefix: body.token.slice(0, 10) });
    token = body.token;
    tokenId = body.token_id;
    const row = (await s.sql(`SELECT token_hash, user_id::text AS user_id, expires_at > now() + interval '59 minutes' AND expires_at < now() + interval '61 minutes' AS hour
      FROM meta.api_tokens WHERE token_id = $1`, [tokenId])).rows[0];
    expect(row).toEqual({ token_hash: hashApiToken(token), user_id: trader.userId, hour: true });
    const dump = JSON.stringify((await s.sql('SELECT * FROM meta.api_tokens')).rows) + JSON.stringify((await s.sql('SELECT details_json FROM meta.action_logs')).rows);
    expect(dump).not.toContain(token.slice(6));
    const list = await (await s.http('/auth/tokens', { headers: { cookie: trader.cookie } })).json();
    expect(list[0]).toMatchObject({ token_id: tokenId, token_name: 'grafana', role: 'trader' });
    expect(JSON.stringify(list)).not.toContain(token.slice(6));
  });

  it('serves GET /api/positions to a trader token, as that user and role', async () => {
    const res = await s.http('/api/positions?select=position_id,user_id', { headers: bearer(token) });
    expect(res.status, await res.clone().text()).toBe(200);
    for (const p of await res.json()) expect(String(p.user_id)).toBe(trader.userId);
    expect(await (await s.http('/auth/session', { headers: bearer(token) })).json()).toMatchObject({ signed_in: true, user_id: trader.userId, role: 'trader', roles: ['trader'] });
    const used = await s.sql('SELECT last_used_at FROM meta.api_tokens WHERE token_id = $1', [tokenId]);
    expect(used.rows[0].last_used_at).not.toBeNull();
  });

  it('refuses a role the user does not hold, and minting tokens with a token', async () => {
    const res = await post('/auth/tokens', trader.cookie, { name: 'root', role: 'operator' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details.reason).toBe('role_not_held');
    const minted = await s.http('/auth/tokens', { method: 'POST', json: { name: 'child' }, headers: { origin: ORIGIN, ...bearer(token) } });
    expect(minted.status).toBe(401);
    expect((await minted.json()).error.code).toBe('C500');
  });

  it('answers 401 to malformed, unknown, expired and revoked tokens', async () => {
    const refused = async (t: string) => {
      const res = await s.http('/api/positions', { headers: bearer(t) });
      expect(res.status, t).toBe(401);
      expect((await res.json()).error, t).toMatchObject({ code: 'C505', details: { reason: 'token_invalid' } });
    };
    await refused('carry_short');
    await refused(`carry_${crypto.randomBytes(32).toString('base64url')}`);

    const expiring = await createApiToken(s.engine.db.pool, { userId: trader.userId, role: 'trader', name: 'expiring' });
    expect((await s.http('/api/positions', { headers: bearer(expiring.token) })).status).toBe(200);
    await s.sql(`UPDATE meta.api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE token_id = $1`, [expiring.tokenId]);
    await refused(expiring.token);

    const del = await s.http(`/auth/tokens/${tokenId}`, { method: 'DELETE', headers: { origin: ORIGIN, cookie: trader.cookie } });
    expect(del.status).toBe(200);
    await refused(token);
    expect((await s.http(`/auth/tokens/${tokenId}`, { method: 'DELETE', headers: { origin: ORIGIN, cookie: trader.cookie } })).status).toBe(404);
  });

  it('stops working when the user is deactivated or loses the role', async () => {
    const other = await sessionWithRole(s, 'trader');
    const t = await createApiToken(s.engine.db.pool, { userId: other.userId, role: 'trader', name: 'bot' });
    expect((await s.http('/api/positions', { headers: bearer(t.token) })).status).toBe(200);
    await s.sql(`DELETE FROM meta.user_roles WHERE user_id = $1`, [other.userId]);
    expect((await s.http('/api/positions', { headers: bearer(t.token) })).status).toBe(401);
  });

  it('is ignored again when auth.api_tokens_enabled goes back to false', async () => {
    const live = await createApiToken(s.engine.db.pool, { userId: trader.userId, role: 'trader', name: 'later' });
    await setConfig('auth.api_tokens_enabled', false);
    expect(await (await s.http('/auth/session', { headers: bearer(live.token) })).json()).toMatchObject({ signed_in: false });
  });
});
