// Plans a read (and the projection of a write's returned rows) into one SQL statement that
// returns the JSON body text, built by PostgreSQL, plus counts.
import { apiError } from '../errors.ts';
import type { EmbedItem, OrderTerm, ReadQuery, ScopedParams, SelectItem } from '../parse/ast.ts';
import { parseOrder } from '../parse/query.ts';
import type { Entity, Model, Relationship } from '../../model/types.ts';
import { column, fieldSql, whereSql } from './conditions.ts';
import { ident, Params, tableRef } from './sql.ts';

export interface PlanContext { model: Model; params: Params; seq: number; scopes: Map<string, ScopedParams> }

export function entityOf(model: Model, name: string): Entity {
  const e = model.entities.get(name);
  if (!e || !e.exposed) {
    throw apiError('C200', `No entity "${name}" is served here`, { entity: name }, undefined, [{ table: 'meta.entities', key: name }]);
  }
  return e;
}

export function resolveRelationship(model: Model, from: Entity, embed: EmbedItem): Relationship {
  const all = model.relationships.get(from.name) ?? [];
  let cands = all.filter((r) => r.to === embed.relation && model.entities.get(r.to)?.exposed);
  if (embed.hint) {
    const h = embed.hint;
    cands = cands.filter((r) => r.name === h || r.fromColumns.includes(h) || r.toColumns.includes(h) || r.junction?.entity === h);
  }
  if (!cands.length) {
    const targets = [...new Set(all.map((r) => r.to))];
    throw apiError('C202', `"${from.name}" has no relationship to "${embed.relation}"${embed.hint ? ` matching "!${embed.hint}"` : ''}`,
      { entity: from.name, relation: embed.relation, hint: embed.hint ?? null, related: targets },
      targets.length ? `${from.name} can embed: ${targets.join(', ')}.` : `${from.name} has no foreign keys to or from other served entities.`);
  }
  if (cands.length > 1) {
    throw apiError('C203', `"${from.name}" → "${embed.relation}" is ambiguous: ${cands.length} relationships`,
      { entity: from.name, relation: embed.relation, options: cands.map((r) => ({ hint: r.junction?.entity ?? r.name, cardinality: r.cardinality, columns: r.fromColumns })) },
      `Disambiguate with ${cands.map((r) => `${embed.relation}!${r.junction?.entity ?? r.name}`).join(' or ')}.`);
  }
  return cands[0];
}

function joinSql(model: Model, rel: Relationship, parentAlias: string, childAlias: string): { join: string; on: string } {
  if (rel.junction) {
    const j = rel.junction;
    const je = model.entities.get(j.entity)!;
    const ja = `${childAlias}j`;
    const onChild = j.toFk.columns.map((c, i) => `${ja}.${ident(c)} = ${childAlias}.${ident(j.toFk.targetColumns[i])}`).join(' AND ');
    const onParent = j.fromFk.columns.map((c, i) => `${ja}.${ident(c)} = ${parentAlias}.${ident(j.fromFk.targetColumns[i])}`).join(' AND ');
    return { join: ` JOIN ${tableRef(je)} ${ja} ON ${onChild}`, on: onParent };
  }
  return { join: '', on: rel.fromColumns.map((c, i) => `${childAlias}.${ident(rel.toColumns[i])} = ${parentAlias}.${ident(c)}`).join(' AND ') };
}

function orderSql(e: Entity, alias: string, order: OrderTerm[] | undefined, p: Params, where: string): string {
  if (!order?.length) return '';
  return ' ORDER BY ' + order.map((o) => {
    const { sql } = fieldSql(e, alias, o.field, p, where);
    return `${sql} ${o.dir.toUpperCase()}${o.nulls ? ` NULLS ${o.nulls.toUpperCase()}` : ''}`;
  }).join(', ');
}

// Type names the SQL grammar spells as keywords stay bare; any other name is quoted, so a
// keyword such as `select` is an unknown type (a 400), never a syntax error in the statement.
const KEYWORD_TYPES = /^(?:int|integer|smallint|bigint|real|float|double precision|dec|decimal|numeric|boolean|bit|bit varying|char|character|character varying|varchar|nchar|interval|time|timestamp|time(?:stamp)? with(?:out)? time zone)$/;

function castType(cast: string): string {
  const array = cast.endsWith('[]');
  const base = array ? cast.slice(0, -2) : cast;
  return (KEYWORD_TYPES.test(base) ? base : ident(base)) + (array ? '[]' : '');
}

/** Select list for `alias`, embedding related rows as JSON sub-selects. */
export function projection(e: Entity, alias: string, items: SelectItem[], ctx: PlanContext, path: string, innerFilters: string[]): string {
  const out: string[] = [];
  for (const it of items) {
    if (it.kind === 'star') {
      out.push(...e.columns.map((c) => `${alias}.${ident(c.name)}`));
    } else if (it.kind === 'field') {
      const { sql } = fieldSql(e, alias, it.field, ctx.params, 'select');
      const name = it.alias ?? (it.field.json.length ? it.field.json[it.field.json.length - 1].key : it.field.name);
      out.push(`${it.cast ? `CAST(${sql} AS ${castType(it.cast)})` : sql} AS ${ident(name)}`);
    } else {
      const sub = embedSql(e, alias, it, ctx, path);
      out.push(`${sub.sql} AS ${ident(it.alias ?? it.relation)}`);
      if (it.inner) innerFilters.push(sub.exists);
    }
  }
  if (!out.length) throw apiError('C102', `Nothing to select from "${e.name}"`, { entity: e.name });
  return out.join(', ');
}

function embedSql(parent: Entity, parentAlias: string, it: EmbedItem, ctx: PlanContext, parentPath: string): { sql: string; exists: string } {
  const rel = resolveRelationship(ctx.model, parent, it);
  const child = ctx.model.entities.get(rel.to)!;
  const path = parentPath ? `${parentPath}.${it.alias ?? it.relation}` : (it.alias ?? it.relation);
  const a = `_${++ctx.seq}`;
  const scope = ctx.scopes.get(path);
  const join = joinSql(ctx.model, rel, parentAlias, a);
  const inner: string[] = [];
  const proj = projection(child, a, it.select.length ? it.select : [{ kind: 'star' }], ctx, path, inner);
  const conds = [join.on];
  if (scope?.conditions.length) conds.push(whereSql(child, a, scope.conditions, ctx.params));
  conds.push(...inner);
  const from = `${tableRef(child)} ${a}${join.join}`;
  const whereClause = ` WHERE ${conds.join(' AND ')}`;
  const exists = `EXISTS (SELECT 1 FROM ${from}${whereClause})`;
  // Planned for to-one embeddings too, so an unknown order column is an error, not ignored.
  const ord = orderSql(child, a, scope?.order, ctx.params, `${path}.order`);
  if (rel.cardinality === 'many-to-one') {
    return { sql: `(SELECT row_to_json(${a}r) FROM (SELECT ${proj} FROM ${from}${whereClause}${ord} LIMIT 1) ${a}r)`, exists };
  }
  const lim = scope?.limit !== undefined ? ` LIMIT ${scope.limit}` : '';
  const off = scope?.offset !== undefined ? ` OFFSET ${scope.offset}` : '';
  return { sql: `(SELECT coalesce(json_agg(${a}r), '[]'::json) FROM (SELECT ${proj} FROM ${from}${whereClause}${ord}${lim}${off}) ${a}r)`, exists };
}

/**
 * Filters on a related table that the select does not embed (`authors.country=eq.GB` on
 * books) keep the rows that have such a related row — an `!inner` embedding without output.
 * This extends PostgREST's grammar so row rules can follow foreign keys.
 */
export function hiddenEmbeds(q: ReadQuery): EmbedItem[] {
  const named = new Set(q.select.filter((i): i is EmbedItem => i.kind === 'embed').map((i) => i.alias ?? i.relation));
  return [...q.scopes.keys()].filter((p) => p !== '' && !p.includes('.') && !named.has(p))
    .map((p) => ({ kind: 'embed', relation: p, inner: true, select: [] }));
}

export function hiddenFilters(e: Entity, alias: string, q: ReadQuery, ctx: PlanContext): string[] {
  return hiddenEmbeds(q).map((h) => embedSql(e, alias, h, ctx, '').exists);
}

export function checkScopes(root: Entity, q: ReadQuery, model: Model): void {
  // Every filter path must name an embedded relation of the select.
  const paths = new Set<string>(['']);
  const walk = (items: SelectItem[], prefix: string) => {
    for (const it of items) if (it.kind === 'embed') {
      const p = prefix ? `${prefix}.${it.alias ?? it.relation}` : (it.alias ?? it.relation);
      paths.add(p);
      walk(it.select, p);
    }
  };
  walk(q.select, '');
  for (const h of hiddenEmbeds(q)) paths.add(h.relation);
  for (const path of q.scopes.keys()) {
    if (!paths.has(path)) {
      throw apiError('C100', `"${path}" in a filter, order or limit is not an embedded relation of the select`, { path, entity: root.name }, `Add ${path}(...) to select, or remove the "${path}." parameters.`);
    }
    const h = hiddenEmbeds(q).find((x) => x.relation === path);
    if (h && (q.scopes.get(path)?.order || q.scopes.get(path)?.limit !== undefined || q.scopes.get(path)?.offset !== undefined)) {
      throw apiError('C100', `"${path}.order", "${path}.limit" and "${path}.offset" need ${path}(...) in select`, { path, entity: root.name });
    }
  }
  void model;
}

export interface ReadPlan { text: string; values: unknown[] }

export interface ReadOptions { count: 'none' | 'exact'; limit?: number; offset?: number }

export function planRead(model: Model, e: Entity, q: ReadQuery, opts: ReadOptions, params: Params = new Params()): ReadPlan {
  checkScopes(e, q, model);
  const ctx: PlanContext = { model, params, seq: 0, scopes: q.scopes };
  const root = q.scopes.get('') ?? { conditions: [] };
  const inner: string[] = [];
  const proj = projection(e, '_0', q.select, ctx, '', inner);
  const conds = root.conditions.length ? [whereSql(e, '_0', root.conditions, params)] : [];
  conds.push(...inner, ...hiddenFilters(e, '_0', q, ctx));
  const where = conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
  const order = root.order ?? (e.defaultOrder ? parseOrder(e.defaultOrder, `default_order of ${e.name}`) : undefined);
  const ord = orderSql(e, '_0', order, params, 'order');
  const lim = opts.limit !== undefined ? ` LIMIT ${opts.limit}` : '';
  const off = opts.offset ? ` OFFSET ${opts.offset}` : '';
  const total = opts.count === 'exact' ? `(SELECT count(*) FROM ${tableRef(e)} _0${where})` : 'NULL::bigint';
  const text = `SELECT ${total} AS total, count(_r) AS page, coalesce(json_agg(_r), '[]')::text AS body FROM (SELECT ${proj} FROM ${tableRef(e)} _0${where}${ord}${lim}${off}) _r`;
  return { text, values: params.values };
}
