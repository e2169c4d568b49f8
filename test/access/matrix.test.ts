// The authorization matrix, generated from the definition: for every role × every served entity
// × every verb, the expected outcome is derived from the rule rows (meta.policies, with role
// inheritance) and both walls are checked — the HTTP answer and the privileges PostgreSQL holds.
// Adding or removing a rule row changes the expectations; the test code does not change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/engine.ts';
import { ORIGIN, sessionWithRole } from '../helpers/auth.ts';
import { grantsFor, VERBS, type Verb } from '../../engine/access/rules.ts';
import { pgRole } from '../../engine/access/install.ts';

let s: TestServer;
const cookies = new Map<string, string>();
beforeAll(async () => {
  s = await startTestServer();
  for (const role of s.engine.access.rules.roles.keys()) {
    if (role !== s.engine.access.rules.anonymousRole) cookies.set(role, (await sessionWithRole(s, role)).cookie);
  }
}, 120_000);
afterAll(async () => { await s?.close(); });

function request(entity: string, key: string, verb: Verb): [string, RequestInit & { json?: unknown }] {
  switch (verb) {
    case 'select': return [`/api/${entity}?limit=1`, {}];
    case 'insert': return [`/api/${entity}`, { method: 'POST', json: {} }];
    case 'update': return [`/api/${entity}?${key}=is.null`, { method: 'PATCH', json: {} }];
    default: return [`/api/${entity}?${key}=is.null`, { method: 'DELETE' }];
  }
}

describe('authorization matrix', () => {
  it('covers every role, served entity and verb, over HTTP and in the database', async () => {
    const rules = s.engine.access.rules;
    const entities = [...s.engine.store.current.entities.values()].filter((e) => e.exposed);
    expect(rules.roles.size).toBeGreaterThanOrEqual(7);
    expect(entities.length).toBeGreaterThan(30);
    const failures: string[] = [];
    let checked = 0, allowedCount = 0;
    for (const role of rules.roles.keys()) {
      const grants = grantsFor(rules, role);
      const anonymous = role === rules.anonymousRole;
      const cookie = cookies.get(role);
      for (const e of entities) {
        const key = e.primaryKey[0] ?? e.columns[0].name;
        for (const verb of VERBS) {
          const expected = grants.get(e.name)?.verbs.has(verb) ?? false;
          const writable = e.kind === 'table' || verb === 'select';
          const [path, init] = request(e.name, key, verb);
          const res = await s.http(path, { ...init, headers: { origin: ORIGIN, ...(cookie ? { cookie } : {}) } });
          const status = res.status;
          const text = await res.text();
          const code = status >= 400 ? (JSON.parse(text) as { error: { code: string } }).error.code : null;
          const refusedAs = anonymous ? 401 : 403;
          // Allowed: past both walls for the verb. The database may still refuse this particular
          // (empty) row with a WITH CHECK rule (C407), which is the row rule working, not the verb.
          const wall = code === 'C500' || code === 'C501' || (code === 'C407' && /permission denied/.test(text));
          const ok = expected ? !wall || (!writable && status === 405) : status === refusedAs && (code === 'C500' || code === 'C501');
          if (!ok) failures.push(`HTTP ${role} ${verb} ${e.name}: expected ${expected ? 'allowed' : refusedAs}, got ${status} ${code ?? ''} ${text.slice(0, 120)}`);
          // The database wall: the PostgreSQL role holds exactly the privileges the rules grant.
          const priv = verb.toUpperCase();
          const q = verb === 'delete'
            ? `SELECT has_table_privilege($1, $2, 'DELETE') AS p`
            : `SELECT has_any_column_privilege($1, $2, '${priv}') AS p`;
          const db = (await s.sql(q, [pgRole(role), `${e.schema}.${e.table}`])).rows[0].p;
          if (db !== expected) failures.push(`DB ${role} ${verb} ${e.name}: rules say ${expected}, PostgreSQL says ${db}`);
          checked++;
          if (expected) allowedCount++;
        }
      }
    }
    expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
    expect(checked).toBe(rules.roles.size * entities.length * 4);
    expect(allowedCount).toBeGreaterThan(50);
    expect(checked - allowedCount).toBeGreaterThan(200);
  }, 300_000);

  it('changes its expectations when a rule row changes', async () => {
    const before = grantsFor(s.engine.access.rules, 'trader').get('venue_fees')?.verbs.has('update') ?? false;
    expect(before).toBe(false);
    await s.sql(`INSERT INTO meta.policies (policy_name, entity_name, role_id, verb, description)
      SELECT 'venue_fees_trader_update_test', 'venue_fees', role_id, 'update', 'test rule' FROM meta.roles WHERE role_name = 'trader'`);
    const { waitFor } = await import('../helpers/engine.ts');
    await waitFor(() => grantsFor(s.engine.access.rules, 'trader').get('venue_fees')?.verbs.has('update') === true, 3000, 20);
    const res = await s.http('/api/venue_fees?service_id=is.null', { method: 'PATCH', json: {}, headers: { origin: ORIGIN, cookie: cookies.get('trader')! } });
    expect(res.status).toBe(400); // past the wall; refused only for the empty body
    expect((await s.sql(`SELECT has_any_column_privilege($1, 'app.venue_fees', 'UPDATE') AS p`, [pgRole('trader')])).rows[0].p).toBe(true);
  });
});
