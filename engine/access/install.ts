// Installs the definition's roles and rules into PostgreSQL, so the database is the wall:
// each role is a PostgreSQL role (NOLOGIN, member of its parent), each rule becomes a
// row-level-security policy plus table or column privileges. Runs in one transaction whenever
// the rules change; processes sharing a database skip it when the stored hash already matches.
import type { DbClient } from '../db/types.ts';
import type { Entity, Model } from '../model/types.ts';
import { ident, tableRef } from '../api/plan/sql.ts';
import { parseQuery } from '../api/parse/query.ts';
import { whereSql } from '../api/plan/conditions.ts';
import { checkScopes, hiddenFilters, type PlanContext } from '../api/plan/read.ts';
import { InlineParams, userSetting } from './inline.ts';
import type { AccessRules, Rule } from './rules.ts';

export const ROLE_PREFIX = process.env.CARRY_ROLE_PREFIX ?? 'carry_';
export const pgRole = (role: string) => `${ROLE_PREFIX}${role}`;

export class RuleError extends Error {
  constructor(public rule: string, message: string) { super(`policies[name=${rule}]: ${message}`); }
}

/** A stored filter as SQL over the table itself, values inlined. */
export function ruleSql(model: Model, e: Entity, filter: string | null, rule: string): string {
  if (!filter) return 'true';
  try {
    const q = parseQuery([...new URLSearchParams(filter).entries()]);
    const p = new InlineParams();
    const alias = tableRef(e);
    checkScopes(e, q, model);
    const ctx: PlanContext = { model, params: p, seq: 0, scopes: q.scopes };
    const root = q.scopes.get('')!.conditions;
    const parts = [...(root.length ? [whereSql(e, alias, root, p)] : []), ...hiddenFilters(e, alias, q, ctx)];
    return parts.length ? parts.join(' AND ') : 'true';
  } catch (err) {
    throw new RuleError(rule, `filter "${filter}" is invalid: ${(err as Error).message}`);
  }
}

function ownerSql(e: Entity, rule: Rule): string | null {
  if (!rule.ownerColumn) return null;
  const col = e.columnsByName.get(rule.ownerColumn);
  if (!col) throw new RuleError(rule.name, `owner_column "${rule.ownerColumn}" is not a column of ${e.name}`);
  return `${tableRef(e)}.${ident(col.name)} = (nullif(current_setting('${userSetting('id')}', true), ''))::${col.sqlType}`;
}

const PG_VERB = { select: 'SELECT', insert: 'INSERT', update: 'UPDATE', delete: 'DELETE', all: 'ALL' } as const;

export async function installAccess(c: DbClient, model: Model, rules: AccessRules): Promise<{ installed: boolean }> {
  await c.query('SELECT pg_advisory_xact_lock(7240003)');
  const state = await c.query(`SELECT state_value #>> '{}' AS h FROM meta.engine_state WHERE state_key = 'access_hash'`);
  const schemas = (await c.query('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [model.schemas])).rows.map((r) => r.nspname as string);
  const stamp = `${rules.hash}:${ROLE_PREFIX}`;
  if (state.rows[0]?.h === stamp) return { installed: false };

  const roleNames = [...rules.roles.keys()];
  for (const r of roleNames) {
    // Roles are cluster-wide: another database (or process) may have made it already.
    await c.query(`DO $$ BEGIN CREATE ROLE ${ident(pgRole(r))} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
    await c.query(`GRANT ${ident(pgRole(r))} TO CURRENT_USER`).catch(() => {}); // lets a non-superuser engine SET ROLE
  }
  for (const r of rules.roles.values()) {
    if (r.parent && rules.roles.has(r.parent)) await c.query(`GRANT ${ident(pgRole(r.parent))} TO ${ident(pgRole(r.name))}`);
  }
  const all = roleNames.map((r) => ident(pgRole(r))).join(', ');
  if (roleNames.length) {
    for (const s of schemas) {
      await c.query(`GRANT USAGE ON SCHEMA ${ident(s)} TO ${all}`);
      await c.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${ident(s)} FROM PUBLIC, ${all}`);
      await c.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${ident(s)} TO ${all}`);
    }
  }
  // Drop the engine's previous policies; rules are installed whole.
  const old = await c.query(`SELECT n.nspname AS s, cl.relname AS t, p.polname AS p FROM pg_policy p JOIN pg_class cl ON cl.oid = p.polrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE p.polname LIKE 'carry\\_%' AND n.nspname = ANY($1)`, [schemas]);
  for (const o of old.rows) await c.query(`DROP POLICY ${ident(o.p)} ON ${ident(o.s)}.${ident(o.t)}`);

  // Every served table has row-level security on; a table with no rule is closed to every role.
  for (const e of model.entities.values()) {
    if (e.kind === 'table') await c.query(`ALTER TABLE ${tableRef(e)} ENABLE ROW LEVEL SECURITY`);
    if (e.kind === 'view') await c.query(`ALTER VIEW ${tableRef(e)} SET (security_invoker = true)`);
  }
  for (const rule of rules.rules) {
    const e = model.entities.get(rule.entity);
    if (!e) continue; // a rule for a table that is gone (doctor reports it) grants nothing
    if (!rules.roles.has(rule.role)) continue;
    const role = ident(pgRole(rule.role));
    for (const col of rule.columns ?? []) if (!e.columnsByName.has(col)) throw new RuleError(rule.name, `column "${col}" is not a column of ${e.name}`);
    const cols = rule.columns ? ` (${rule.columns.map(ident).join(', ')})` : '';
    // Secret columns are never readable: "all columns" means all but those for SELECT.
    const secret = e.columns.some((x) => x.secret);
    const readCols = rule.columns ? rule.columns.filter((x) => !e.columnsByName.get(x)?.secret) : secret ? e.columns.filter((x) => !x.secret).map((x) => x.name) : null;
    const verbs = rule.verb === 'all' ? ['select', 'insert', 'update', 'delete'] : [rule.verb];
    for (const v of verbs) {
      // DELETE has no column list; a column-limited rule still needs to read its key to find rows.
      const list = v === 'delete' ? '' : v === 'select' ? (readCols ? ` (${readCols.map(ident).join(', ')})` : '') : cols;
      if (v === 'select' && readCols && !readCols.length) continue;
      await c.query(`GRANT ${PG_VERB[v as 'select']}${list} ON ${tableRef(e)} TO ${role}`);
    }
    if (e.kind !== 'table') continue;
    const using = ruleSql(model, e, rule.rowFilter, rule.name);
    const check = rule.checkFilter ? ruleSql(model, e, rule.checkFilter, rule.name) : using;
    const owner = ownerSql(e, rule);
    const u = owner ? `(${using}) AND ${owner}` : using;
    const k = owner ? `(${check}) AND ${owner}` : check;
    const name = ident(`carry_${rule.name}`.slice(0, 63));
    const clause = rule.verb === 'select' || rule.verb === 'delete' ? ` USING (${u})`
      : rule.verb === 'insert' ? ` WITH CHECK (${k})` : ` USING (${u}) WITH CHECK (${k})`;
    try {
      await c.query(`CREATE POLICY ${name} ON ${tableRef(e)} AS PERMISSIVE FOR ${PG_VERB[rule.verb]} TO ${role}${clause}`);
    } catch (err) {
      throw new RuleError(rule.name, `could not be installed: ${(err as Error).message}`);
    }
  }
  await c.query(`INSERT INTO meta.engine_state (state_key, state_value) VALUES ('access_hash', to_jsonb($1::text))
    ON CONFLICT (state_key) DO UPDATE SET state_value = EXCLUDED.state_value, updated_at = now()`, [stamp]);
  return { installed: true };
}
