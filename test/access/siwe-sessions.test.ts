// Sign-In with Ethereum and sessions over real HTTP, with real signatures (viem local accounts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { startTestServer, type TestServer } from '../helpers/engine.ts';
import { KEYS, ORIGIN, signedMessage, signIn, verify } from '../helpers/auth.ts';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => { await s?.close(); });

const session = async (cookie?: string) => (await s.http('/auth/session', { headers: cookie ? { cookie } : {} })).json();

describe('SIWE sign-in', () => {
  it('signs a known wallet in, with a cookie that is HttpOnly, SameSite=Lax and host-only', async () => {
    const m = await signedMessage(s, KEYS.alice);
    const res = await verify(s, m);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ signed_in: true, role: 'trader', wallet_address: privateKeyToAccount(KEYS.alice).address });
    expect(body.permissions).toContain('position:open');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^carry_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/); // plain-http localhost: no Secure, no __Host-
    expect(cookie).not.toMatch(/Domain=/i);
    expect(await session(cookie.split(';')[0])).toMatchObject({ signed_in: true, user_id: '1' });
    const stored = await s.sql(`SELECT token_hash FROM meta.sessions ORDER BY created_at DESC LIMIT 1`);
    expect(stored.rows[0].token_hash).not.toContain(cookie.split(';')[0].split('=')[1]); // only a hash is stored
  });

  it('makes a first-time wallet a user with the default role', async () => {
    const cookie = await signIn(s, KEYS.fresh);
    const me = await session(cookie);
    expect(me).toMatchObject({ signed_in: true, role: 'trader', roles: ['trader'] });
    const u = await s.sql('SELECT username FROM meta.users WHERE lower(wallet_address) = lower($1)', [privateKeyToAccount(KEYS.fresh).address]);
    expect(u.rows).toHaveLength(1);
  });

  it('accepts a nonce once, also when the same signed message is sent twice at the same time', async () => {
    const m = await signedMessage(s, KEYS.other);
    const [a, b] = await Promise.all([verify(s, m), verify(s, m)]);
    expect([a.status, b.status].sort()).toEqual([200, 401]);
    const again = await verify(s, m);
    expect(again.status).toBe(401);
    const err = (await again.json()).error;
    expect(err).toMatchObject({ code: 'C505', details: { reason: 'nonce' } });
    const sessions = await s.sql(`SELECT count(*)::int AS n FROM meta.sessions s JOIN meta.users u USING (user_id) WHERE lower(u.wallet_address) = lower($1)`, [privateKeyToAccount(KEYS.other).address]);
    expect(sessions.rows[0].n).toBe(1);
  });

  it('refuses nonces it never issued, expired nonces, and smuggled nonces', async () => {
    const unknown = await signedMessage(s, KEYS.alice, { nonce: 'NeverIssued123' });
    expect((await (await verify(s, unknown)).json()).error.details.reason).toBe('nonce');

    const m = await signedMessage(s, KEYS.alice);
    await s.sql(`UPDATE meta.auth_nonces SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' WHERE nonce = $1`, [m.nonce]);
    const expired = await verify(s, m);
    expect(expired.status).toBe(401);
    expect((await expired.json()).error.details.reason).toBe('nonce');

    const issued = (await (await s.http('/auth/nonce')).json()).nonce;
    const smuggled = await signedMessage(s, KEYS.alice, { nonce: 'OtherNonce9876', statement: `Sign in ${issued}`, requestId: issued });
    expect((await (await verify(s, smuggled)).json()).error.details.reason).toBe('nonce');
  });

  it('checks domain, URI, chain, version and time against configuration, never request headers', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ domain: 'evil.example' }, 'domain'],
      [{ uri: 'https://evil.example/login' }, 'uri'],
      [{ chainId: 999999 }, 'chain'],
      [{ issuedAt: new Date(Date.now() + 10 * 60_000).toISOString() }, 'issued_in_future'],
      [{ issuedAt: new Date(Date.now() - 86_400_000).toISOString() }, 'too_old'],
      [{ expirationTime: new Date(Date.now() - 60_000).toISOString() }, 'expired'],
      [{ notBefore: new Date(Date.now() + 3_600_000).toISOString() }, 'not_yet_valid'],
    ];
    for (const [over, reason] of cases) {
      const res = await verify(s, await signedMessage(s, KEYS.alice, over));
      expect(res.status, JSON.stringify(over)).toBe(401);
      expect((await res.json()).error.details.reason, JSON.stringify(over)).toBe(reason);
    }
    // A forged Host / X-Forwarded-Host does not move the expected domain.
    const forged = await verify(s, await signedMessage(s, KEYS.alice, { domain: 'evil.example' }), { 'x-forwarded-host': 'evil.example' });
    expect((await forged.json()).error.details.reason).toBe('domain');
    // Version 2 and a tampered message are refused too.
    const v2 = await signedMessage(s, KEYS.alice);
    expect((await verify(s, { ...v2, message: v2.message.replace('Version: 1', 'Version: 2') })).status).toBe(401);
    const t = await signedMessage(s, KEYS.alice);
    expect((await (await verify(s, { ...t, message: t.message.replace('Chain ID: 1', 'Chain ID: 10') })).json()).error.details.reason).toBe('signature');
  });

  it('refuses a cross-origin sign-in and a malformed body', async () => {
    const m = await signedMessage(s, KEYS.alice);
    const res = await verify(s, m, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('C504');
    const bad = await s.http('/auth/verify', { method: 'POST', json: { message: 42 }, headers: { origin: ORIGIN } });
    expect(bad.status).toBe(400);
  });
});

describe('sessions', () => {
  it('issue a new session on every sign-in (no fixation) and end at sign-out, at once', async () => {
    const planted = 'carry_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const m = await signedMessage(s, KEYS.alice);
    const res = await verify(s, m, { cookie: planted });
    const cookie = res.headers.get('set-cookie')!.split(';')[0];
    expect(cookie).not.toBe(planted);
    expect((await session(planted)).signed_in).toBe(false);
    expect((await s.http('/api/positions?select=position_id', { headers: { cookie } })).status).toBe(200);

    const out = await s.http('/auth/signout', { method: 'POST', headers: { cookie, origin: ORIGIN } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await session(cookie)).signed_in).toBe(false);
    expect((await s.http('/api/positions', { headers: { cookie } })).status).toBe(401);
  });

  it('end when revoked by an admin, idle too long, or past their absolute lifetime', async () => {
    for (const kill of [
      `UPDATE meta.sessions SET revoked_at = now() WHERE session_id = $1`,
      `UPDATE meta.sessions SET last_seen_at = now() - interval '2 days' WHERE session_id = $1`,
      `UPDATE meta.sessions SET created_at = now() - interval '30 days', expires_at = now() - interval '1 minute' WHERE session_id = $1`,
    ]) {
      const cookie = await signIn(s, KEYS.alice);
      const id = (await s.sql(`SELECT session_id FROM meta.sessions ORDER BY created_at DESC LIMIT 1`)).rows[0].session_id;
      expect((await session(cookie)).signed_in).toBe(true);
      await s.sql(kill, [id]);
      expect((await session(cookie)).signed_in, kill).toBe(false);
    }
  });

  it('log sign-ins, failed sign-ins and sign-outs in the audit log', async () => {
    const rows = await s.sql(`SELECT action, count(*)::int AS n FROM meta.action_logs WHERE entity = 'auth' GROUP BY action`);
    const by = Object.fromEntries(rows.rows.map((r) => [r.action, r.n]));
    expect(by.sign_in).toBeGreaterThan(3);
    expect(by.sign_in_failed).toBeGreaterThan(5);
    expect(by.sign_out).toBeGreaterThan(0);
  });
});
