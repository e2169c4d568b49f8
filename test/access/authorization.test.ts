// Row and field rules enforced on every path: one trader can never read, change, upsert over
// or delete another's rows — by id, by filter or through an embedding — owner columns come from
// the session, ungranted columns are no oracle, and a revoked rule applies on the next request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers/engine.ts';
import { KEYS, ORIGIN, signIn } from '../helpers/auth.ts';

let s: TestServer;
let alice: string; // user 1, trader
let bob: string;
let bobId: string;
beforeAll(async () => {
  s = await startTestServer();
  alice = await signIn(s, KEYS.alice);
  bobId = (await s.sql(`SELECT user_id::text AS id FROM meta.users WHERE username = 'bob'`)).rows[0].id;
  // bob signs in through a real session row (his demo wallet's key is not public)
  const { createSession, sessionConfig } = await import('../../engine/access/sessions.ts');
  const cfg = sessionConfig(s.engine.store.current.config);
  const c = await s.engine.db.pool.connect();
  try { bob = `${cfg.cookieBase}=${(await createSession(c, { userId: bobId, method: 'siwe', wallet: null, chainId: null, ip: null, userAgent: null, cfg })).token}`; } finally { c.release(); }
});
afterAll(async () => { await s?.close(); });

const as = (cookie: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
  s.http(path, { ...init, headers: { cookie, origin: ORIGIN, ...(init.headers as Record<string, string> ?? {}) } });

describe('own rows only', () => {
  it('lists only the caller\'s positions and trades, also through filters and embeddings', async () => {
    const mine = await (await as(alice, '/api/positions?select=position_id,user_id')).json();
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((p: { user_id: number }) => String(p.user_id)))).toEqual(new Set(['1']));
    const bobs = (await s.sql('SELECT position_id FROM app.positions WHERE user_id = $1', [bobId])).rows.map((r) => r.position_id);
    expect(bobs.length).toBeGreaterThan(0);
    expect(await (await as(alice, `/api/positions?position_id=eq.${bobs[0]}`)).json()).toEqual([]);
    expect(await (await as(alice, `/api/positions?user_id=eq.${bobId}`)).json()).toEqual([]);
    const single = await as(alice, `/api/positions?position_id=eq.${bobs[0]}`, { headers: { accept: 'application/vnd.pgrst.object+json' } });
    expect(single.status).toBe(406);
    const trades = await (await as(alice, '/api/trades?select=trade_id,positions(user_id)')).json();
    expect(trades.length).toBeGreaterThan(0);
    for (const t of trades) expect(String(t.positions.user_id)).toBe('1');
    const embedded = await (await as(alice, `/api/strategies?select=strategy_id,positions(position_id,user_id)`)).json();
    for (const st of embedded) for (const p of st.positions) expect(String(p.user_id)).toBe('1');
  });

  it('cannot update, upsert over or delete another user\'s portfolio, and bulk changes skip it', async () => {
    const bobs = (await s.sql('SELECT portfolio_id, portfolio_name, total_capital FROM app.user_portfolios WHERE user_id = $1', [bobId])).rows;
    expect(bobs.length).toBeGreaterThan(0);
    const target = bobs[0];
    const patch = await as(alice, `/api/user_portfolios?portfolio_id=eq.${target.portfolio_id}`, { method: 'PATCH', json: { portfolio_name: 'hijacked' }, headers: { prefer: 'return=representation' } });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toEqual([]);
    const mineIds = (await s.sql('SELECT portfolio_id FROM app.user_portfolios WHERE user_id = 1')).rows.map((r) => r.portfolio_id);
    const bulk = await as(alice, `/api/user_portfolios?portfolio_id=in.(${[...mineIds, target.portfolio_id].join(',')})`, { method: 'PATCH', json: { public_description: 'bulk' }, headers: { prefer: 'return=representation' } });
    expect((await bulk.json()).map((r: { portfolio_id: number }) => String(r.portfolio_id)).sort()).toEqual(mineIds.map(String).sort());
    const del = await as(alice, `/api/user_portfolios?portfolio_id=eq.${target.portfolio_id}`, { method: 'DELETE', headers: { prefer: 'return=representation' } });
    expect(await del.json()).toEqual([]);
    const upsert = await as(alice, '/api/user_portfolios', { method: 'POST', json: { portfolio_id: target.portfolio_id, portfolio_name: 'taken', total_capital: 1, asset_symbol: 'USDC' }, headers: { prefer: 'resolution=merge-duplicates' } });
    expect([403, 409]).toContain(upsert.status);
    const after = (await s.sql('SELECT portfolio_name, total_capital, public_description FROM app.user_portfolios WHERE portfolio_id = $1', [target.portfolio_id])).rows[0];
    expect(after.portfolio_name).toBe(target.portfolio_name);
    expect(after.public_description).not.toBe('bulk');
  });

  it('takes owner columns from the session and refuses another user\'s id', async () => {
    const forged = await as(alice, '/api/user_portfolios', { method: 'POST', json: { user_id: Number(bobId), portfolio_name: 'forged', total_capital: 10, asset_symbol: 'USDC' } });
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe('C503');
    const ok = await as(alice, '/api/user_portfolios?select=user_id,portfolio_name', { method: 'POST', json: { portfolio_name: 'preset', total_capital: 10, asset_symbol: 'USDC' }, headers: { prefer: 'return=representation' } });
    expect(ok.status, await ok.clone().text()).toBe(201);
    expect(await ok.json()).toEqual([{ user_id: 1, portfolio_name: 'preset' }]);
  });

  it('refuses assigning roles through the API', async () => {
    const res = await as(alice, '/api/user_roles', { method: 'POST', json: { user_id: 1, role_id: 1 } });
    expect(res.status).toBe(403);
    const roles = (await s.sql('SELECT count(*)::int AS n FROM meta.user_roles WHERE user_id = 1')).rows[0].n;
    expect(roles).toBe(1);
  });
});

describe('anonymous visitors and refusals', () => {
  it('see public data, get 401 for private data, and 403 once signed in without a rule', async () => {
    expect((await s.http('/api/discovered_opportunities?limit=1')).status).toBe(200);
    const anon = await s.http('/api/positions');
    expect(anon.status).toBe(401);
    expect((await anon.json()).error.code).toBe('C500');
    const trader = await as(alice, '/api/sessions');
    expect(trader.status).toBe(404); // not served at all
    const config = await as(alice, '/api/system_configuration', { method: 'PATCH', json: { description: 'x' }, headers: {} });
    expect(config.status).toBe(403);
    expect((await config.json()).error.code).toBe('C501');
  });

  it('make ungranted columns unusable: not selected by *, not filterable, not sortable', async () => {
    const rows = await (await s.http('/api/services?select=*&limit=1')).json();
    expect(Object.keys(rows[0])).not.toContain('config_json');
    for (const q of ['select=config_json', 'config_json=not.is.null', 'order=config_json', 'or=(config_json.is.null,service_id.gt.0)']) {
      const res = await s.http(`/api/services?${q}`);
      expect(res.status, q).toBe(403);
      expect((await res.json()).error.code, q).toBe('C502');
    }
  });

  it('refuse a cross-origin write even with a valid session', async () => {
    const res = await s.http('/api/user_portfolios', { method: 'POST', json: { portfolio_name: 'csrf', total_capital: 1, asset_symbol: 'USDC' }, headers: { cookie: alice, origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('C504');
  });

  it('apply a revoked rule on the next request', async () => {
    expect((await s.http('/api/funding_rates?limit=1')).status).toBe(200);
    await s.sql(`UPDATE meta.policies SET is_enabled = false WHERE policy_name = 'funding_rates_public_read'`);
    await waitFor(async () => (await s.http('/api/funding_rates?limit=1')).status === 401, 3000, 20);
    await s.sql(`UPDATE meta.policies SET is_enabled = true WHERE policy_name = 'funding_rates_public_read'`);
    await waitFor(async () => (await s.http('/api/funding_rates?limit=1')).status === 200, 3000, 20);
  });
});

describe('explain', () => {
  it('says which rule allowed or refused, for the caller', async () => {
    const own = (await s.sql('SELECT position_id FROM app.positions WHERE user_id = 1 LIMIT 1')).rows[0].position_id;
    const other = (await s.sql('SELECT position_id FROM app.positions WHERE user_id = $1 LIMIT 1', [bobId])).rows[0].position_id;
    const yes = await (await as(alice, `/api/_access/explain?entity=positions&verb=select&id=${own}`)).json();
    expect(yes).toMatchObject({ allowed: true, decided_by: 'positions_own_read', role: 'trader' });
    const no = await (await as(alice, `/api/_access/explain?entity=positions&verb=select&id=${other}`)).json();
    expect(no).toMatchObject({ allowed: false, decided_by: null });
    expect(no.rules.map((r: { name: string }) => r.name)).toContain('positions_own_read');
    const anon = await (await s.http('/api/_access/explain?entity=positions&verb=delete')).json();
    expect(anon.allowed).toBe(false);
    expect(anon.reason).toMatch(/no rule/);
    const forbidden = await as(alice, '/api/_access/explain?entity=positions&role=auditor');
    expect(forbidden.status).toBe(403);
  });
});

describe('pooled connections', () => {
  it('never carry one request\'s user into the next, under concurrency', async () => {
    const who = async (cookie: string) => new Set((await (await as(cookie, '/api/positions?select=user_id')).json()).map((p: { user_id: number }) => String(p.user_id)));
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? s.http('/api/positions').then((r) => r.status) : who(i % 3 === 1 ? alice : bob))));
    results.forEach((r, i) => {
      if (i % 3 === 0) expect(r).toBe(401);
      else expect([...(r as Set<string>)]).toEqual([i % 3 === 1 ? '1' : bobId]);
    });
  });
});
