// Secret columns: written through the API, stored sealed and bound to their row, never
// returned by any path — select, *, filter, order, embedding, representation, audit, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/engine.ts';
import { KEYS, ORIGIN, signIn } from '../helpers/auth.ts';
import { open } from '../../engine/secrets/envelope.ts';
import { aadFor } from '../../engine/secrets/columns.ts';

const PRIVATE = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
let s: TestServer;
let alice: string;
beforeAll(async () => {
  // A server database needs its master key configured; in-memory PGlite has no folder for a key file.
  process.env.CARRY_MASTER_KEY = crypto.randomBytes(32).toString('base64');
  s = await startTestServer();
  alice = await signIn(s, KEYS.alice);
});
afterAll(async () => { await s?.close(); });

const as = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  s.http(path, { ...init, headers: { cookie: alice, origin: ORIGIN, ...(init.headers as Record<string, string> ?? {}) } });

describe('secret columns', () => {
  let walletId: string;

  it('are sealed when written, bound to their row, and open only with the master key', async () => {
    const res = await as('/api/user_wallets', {
      method: 'POST', headers: { prefer: 'return=representation' },
      json: { wallet_address: '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23', chain: 'arbitrum', encrypted_private_key: PRIVATE },
    });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expect(text).not.toContain(PRIVATE.slice(2, 20));
    const [row] = JSON.parse(text);
    expect(row).not.toHaveProperty('encrypted_private_key');
    walletId = String(row.wallet_id);
    const stored = (await s.sql('SELECT encrypted_private_key AS v FROM app.user_wallets WHERE wallet_id = $1', [walletId])).rows[0].v as string;
    expect(stored).toMatch(/^cs1\./);
    expect(stored).not.toContain(PRIVATE.slice(2));
    const target = { schema: 'app', table: 'user_wallets', column: 'encrypted_private_key', key: ['wallet_id'] };
    expect(open(stored, aadFor(target, { wallet_id: walletId }), s.engine.keys.get()).toString()).toBe(PRIVATE);
    // bound to its row: the same envelope does not open as another row's value
    expect(() => open(stored, aadFor(target, { wallet_id: '999999' }), s.engine.keys.get())).toThrow();
  });

  it('are never readable, filterable or sortable, by the owner either', async () => {
    const all = await (await as('/api/user_wallets?select=*')).json();
    expect(all.length).toBeGreaterThan(0);
    for (const w of all) expect(w).not.toHaveProperty('encrypted_private_key');
    for (const q of ['select=encrypted_private_key', 'encrypted_private_key=like.cs1*', 'order=encrypted_private_key']) {
      const r = await as(`/api/user_wallets?${q}`);
      expect(r.status, q).toBe(403);
      expect((await r.json()).error.code).toBe('C502');
    }
    const embedded = await (await as('/api/users?select=user_id,user_wallets(*)')).json();
    expect(JSON.stringify(embedded)).not.toContain('cs1.');
    const audit = await s.sql(`SELECT details_json::text AS d FROM meta.action_logs WHERE entity = 'user_wallets'`);
    expect(audit.rows.length).toBeGreaterThan(0);
    for (const a of audit.rows) { expect(a.d).not.toContain(PRIVATE.slice(2, 20)); expect(a.d).not.toContain('cs1.'); }
    const doc = await (await as('/api/openapi.json')).json();
    expect(doc.components.schemas.user_wallets.properties).not.toHaveProperty('encrypted_private_key');
  });

  it('are replaced one row at a time, by key', async () => {
    const bulk = await as('/api/user_wallets?chain=eq.arbitrum', { method: 'PATCH', json: { encrypted_private_key: PRIVATE } });
    expect(bulk.status).toBe(400);
    const one = await as(`/api/user_wallets?wallet_id=eq.${walletId}`, { method: 'PATCH', json: { encrypted_private_key: `${PRIVATE.slice(0, -1)}9` } });
    expect(one.status).toBe(204);
    const stored = (await s.sql('SELECT encrypted_private_key AS v FROM app.user_wallets WHERE wallet_id = $1', [walletId])).rows[0].v;
    expect(stored).toMatch(/^cs1\./);
  });
});

describe('encrypted configuration values', () => {
  it('are sealed when written through the API and open only for the engine', async () => {
    const { sessionWithRole } = await import('../helpers/auth.ts');
    const { openConfig } = await import('../../engine/secrets/api.ts');
    const { cookie } = await sessionWithRole(s, 'operator');
    const post = await s.http('/api/system_configuration', {
      method: 'POST', headers: { cookie, origin: ORIGIN },
      json: { config_key: 'notify.webhook_token', config_value: 'tok-SECRET-123', data_type: 'string', description: 'alerting webhook token', is_encrypted: true, is_secret: true },
    });
    expect(post.status, await post.clone().text()).toBe(201);
    const stored = (await s.sql(`SELECT config_value #>> '{}' AS v FROM meta.system_configuration WHERE config_key = 'notify.webhook_token'`)).rows[0].v;
    expect(stored).toMatch(/^cs1\./);
    expect(openConfig(s.engine.keys, 'notify.webhook_token', stored)).toBe('tok-SECRET-123');
    const patch = await s.http('/api/system_configuration?config_key=eq.notify.webhook_token', { method: 'PATCH', headers: { cookie, origin: ORIGIN }, json: { config_value: 'tok-NEW-456' } });
    expect(patch.status).toBe(204);
    const again = (await s.sql(`SELECT config_value #>> '{}' AS v FROM meta.system_configuration WHERE config_key = 'notify.webhook_token'`)).rows[0].v;
    expect(openConfig(s.engine.keys, 'notify.webhook_token', again)).toBe('tok-NEW-456');
    const listed = await (await s.http('/api/system_configuration?select=config_key,config_value', { headers: { cookie } })).text();
    expect(listed).not.toContain('tok-');
    const audit = await s.sql(`SELECT details_json::text AS d FROM meta.action_logs WHERE entity = 'system_configuration'`);
    for (const a of audit.rows) expect(a.d).not.toContain('tok-');
  });
});
