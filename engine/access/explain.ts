// GET /api/_access/explain?entity=&verb=&id=[&role=] — which rule allows or refuses, for the
// current user; anyone holding user:manage may ask for another role.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Engine } from '../engine.ts';
import { apiError } from '../api/errors.ts';
import { entityOf } from '../api/plan/read.ts';
import { ident, tableRef } from '../api/plan/sql.ts';
import { checkText } from '../api/plan/values.ts';
import { ruleSql } from './install.ts';
import { grantsFor, VERBS, type Verb } from './rules.ts';

export function registerExplain(app: FastifyInstance, engine: Engine): void {
  app.get('/api/_access/explain', async (req: FastifyRequest) => {
    const q = req.query as { entity?: string; verb?: string; id?: string; role?: string };
    if (!q.entity) throw apiError('C100', 'explain needs ?entity=', { parameter: 'entity' });
    const verb = (q.verb ?? 'select') as Verb;
    if (!VERBS.includes(verb)) throw apiError('C100', `verb must be one of ${VERBS.join(', ')}`, { parameter: 'verb', value: q.verb });
    const full = engine.store.current;
    const e = entityOf(full, q.entity);
    let role = req.auth.role;
    if (q.role && q.role !== role) {
      if (!req.auth.permissions.has('user:manage')) throw apiError('C506', 'Explaining another role needs the user:manage permission', { permission: 'user:manage' });
      if (!engine.access.rules.roles.has(q.role)) throw apiError('C100', `No role "${q.role}"`, { parameter: 'role', value: q.role });
      role = q.role;
    }
    const info = engine.access.rules.roles.get(role);
    const g = grantsFor(engine.access.rules, role).get(e.name);
    const rules = (g?.rules ?? []).filter((r) => r.verb === verb || r.verb === 'all');
    let row: Record<string, unknown> | null = null;
    const matches = new Map<string, boolean>();
    if (q.id !== undefined) {
      if (e.primaryKey.length !== 1) throw apiError('C100', `${e.name} has no single-column primary key to look a row up by id`, { entity: e.name });
      const pk = e.columnsByName.get(e.primaryKey[0])!;
      checkText(pk, q.id, 'id');
      // Evaluated as the engine, with the asking user's settings, so the explanation itself
      // never depends on the rules being explained.
      const checks = rules.map((r, i) => `(${ruleSql(full, e, r.rowFilter, r.name)}) AS ${ident(`m${i}`)}`);
      const res = await engine.db.tx(async (c) => {
        await c.query(`SELECT set_config('request.user.id', $1, true), set_config('request.user.wallet_address', $2, true)`, [req.auth.userId ?? '', req.auth.wallet ?? '']);
        return c.query(`SELECT true AS found${checks.length ? ', ' + checks.join(', ') : ''} FROM ${tableRef(e)} WHERE ${ident(pk.name)} = $1`, [q.id]);
      });
      row = res.rows[0] ?? null;
      rules.forEach((r, i) => matches.set(r.name, !!row?.[`m${i}`]));
    }
    const decidedBy = rules.find((r) => (q.id === undefined ? true : matches.get(r.name)));
    const allowed = !!decidedBy && (q.id === undefined || !!row);
    return {
      entity: e.name, verb, role, role_lineage: info?.lineage ?? [], user_id: req.auth.userId, id: q.id ?? null,
      allowed, decided_by: decidedBy?.name ?? null,
      reason: !rules.length ? `no rule in meta.policies grants ${verb} on ${e.name} to ${role} or the roles it inherits from`
        : q.id !== undefined && !row ? `no ${e.name} row has id ${q.id}`
          : allowed ? `rule ${decidedBy!.name} (role ${decidedBy!.role}) allows it` : `rules exist but none matches row ${q.id}`,
      columns: g?.columns.get(verb) === null ? 'all' : [...(g?.columns.get(verb) ?? [])],
      rules: rules.map((r) => ({ name: r.name, role: r.role, verb: r.verb, row_filter: r.rowFilter, columns: r.columns, owner_column: r.ownerColumn, description: r.description, matches: q.id === undefined ? null : matches.get(r.name) ?? false })),
    };
  });
}
