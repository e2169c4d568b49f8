// Signing in for tests: the real SIWE flow over HTTP with a viem local account, or — for the
// authorization matrix — a real session row for a user given a role.
import { privateKeyToAccount } from 'viem/accounts';
import { buildSiweMessage } from '../../engine/access/siwe/message.ts';
import { createSession, sessionConfig } from '../../engine/access/sessions.ts';
import type { TestServer } from './engine.ts';

/** Anvil's well-known development keys (public; never hold value). */
export const KEYS = {
  alice: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  fresh: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  other: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb47fcc6b1e7e02',
} as const;

export const ORIGIN = 'http://localhost:3000';

export interface SignedMessage { message: string; signature: `0x${string}`; nonce: string }

export async function signedMessage(s: TestServer, key: `0x${string}`, over: Record<string, unknown> = {}): Promise<SignedMessage> {
  const n = await (await s.http('/auth/nonce')).json();
  const account = privateKeyToAccount(key);
  const now = new Date();
  const message = buildSiweMessage({
    domain: n.domain, address: account.address, statement: n.statement ?? undefined, uri: n.uri, version: '1',
    chainId: n.chain_ids[0], nonce: n.nonce, issuedAt: now.toISOString(), ...over,
  } as never);
  return { message, signature: await account.signMessage({ message }), nonce: n.nonce };
}

export function verify(s: TestServer, m: { message: string; signature: string }, headers: Record<string, string> = {}) {
  return s.http('/auth/verify', { method: 'POST', json: { message: m.message, signature: m.signature }, headers: { origin: ORIGIN, ...headers } });
}

/** Sign in through the real flow; returns the Cookie header value. */
export async function signIn(s: TestServer, key: `0x${string}`): Promise<string> {
  const res = await verify(s, await signedMessage(s, key));
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return res.headers.get('set-cookie')!.split(';')[0];
}

/** A user holding exactly `role`, signed in: a real session row and cookie. */
export async function sessionWithRole(s: TestServer, role: string): Promise<{ cookie: string; userId: string }> {
  const name = `t_${role}_${Math.random().toString(36).slice(2, 8)}`;
  const u = await s.sql(`INSERT INTO meta.users (username) VALUES ($1) RETURNING user_id::text AS id`, [name]);
  const userId = u.rows[0].id;
  await s.sql(`INSERT INTO meta.user_roles (user_id, role_id) SELECT $1, role_id FROM meta.roles WHERE role_name = $2`, [userId, role]);
  const cfg = sessionConfig(s.engine.store.current.config);
  const c = await s.engine.db.pool.connect();
  try {
    const { token } = await createSession(c, { userId, method: 'siwe', wallet: null, chainId: null, ip: null, userAgent: 'test', cfg });
    return { cookie: `${cfg.cookieBase}=${token}`, userId };
  } finally {
    c.release();
  }
}
