// Plans INSERT (one or many rows, upsert), UPDATE and DELETE with filters. The changed rows are
// returned through the same projection as reads, so embedding works on representations.
import { apiError } from '../errors.ts';
import type { ReadQuery } from '../parse/ast.ts';
import type { Entity, Model } from '../../model/types.ts';
import { column, whereSql } from './conditions.ts';
import { checkScopes, hiddenFilters, projection, type PlanContext } from './read.ts';
import { ident, Params, tableRef } from './sql.ts';
import { bodyValue } from './values.ts';

export interface WriteOptions {
  returnRows: boolean;
  /** the whole table, when `e` is a role's view of it: written columns may be unreadable (secrets) */
  table?: Entity;
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missingDefault: boolean;
}

function ensureWritable(e: Entity, verb: string): void {
  if (e.kind === 'materialized_view') throw apiError('C305', `"${e.name}" is a materialized view and cannot be written (${verb})`, { entity: e.name });
}

function writableColumn(e: Entity, name: string, where: string) {
  const col = column(e, name, where);
  if (col.generated || col.readonly) {
    throw apiError('C304', `Column "${name}" of "${e.name}" is ${col.generated ? 'generated' : 'read-only'} and cannot be written (at ${where})`, { entity: e.name, column: name, location: where }, undefined,
      col.readonly && !col.generated ? [{ table: 'meta.fields', key: `${e.name}.${name}` }] : []);
  }
  return col;
}

/**
 * The statement around a write: the changed rows through the request's projection (`body`), and
 * for the audit log their keys and values — before (`_o`, same snapshot) and after (`_w`).
 */
function wrap(model: Model, e: Entity, dml: string, q: ReadQuery, p: Params, returnRows: boolean, before?: string): string {
  // Only columns the caller may read come back (RETURNING needs SELECT on each of them).
  const readable = e.columns.map((c) => c.name);
  const keyCols = (e.primaryKey.length ? e.primaryKey : readable.slice(0, 1)).filter((k) => readable.includes(k));
  const keys = keyCols.length ? `(SELECT coalesce(json_agg(json_build_array(${keyCols.map((k) => `_k.${ident(k)}`).join(', ')})), '[]'::json) FROM _w _k)` : `'[]'::json`;
  const audit = `json_build_object('keys', ${keys}, 'new', (SELECT json_agg(_n) FROM _w _n)${before ? ", 'old', (SELECT json_agg(_p) FROM _o _p)" : ''})::text AS audit`;
  const returning = readable.length ? readable.map((c) => `_t.${ident(c)}`).join(', ') : 'NULL AS _none';
  const head = `WITH ${before ? `_o AS (${before.replace('SELECT *', `SELECT ${returning}`)}), ` : ''}_w AS (${dml} RETURNING ${returning})`;
  if (!returnRows) return `${head} SELECT NULL::bigint AS total, (SELECT count(*) FROM _w) AS page, NULL::text AS body, ${audit}`;
  checkScopes(e, q, model);
  const ctx: PlanContext = { model, params: p, seq: 0, scopes: q.scopes };
  const proj = projection(e, '_0', q.select, ctx, '', []);
  return `${head} SELECT NULL::bigint AS total, count(_r) AS page, coalesce(json_agg(_r), '[]')::text AS body, ${audit} FROM (SELECT ${proj} FROM _w _0) _r`;
}

export function planInsert(model: Model, e: Entity, q: ReadQuery, body: unknown, opts: WriteOptions): { text: string; values: unknown[] } {
  ensureWritable(e, 'POST');
  const rows = Array.isArray(body) ? body : [body];
  if (!rows.length) throw apiError('C303', 'The body is an empty array: nothing to insert', { entity: e.name });
  rows.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw apiError('C303', `Row ${i} of the body is not a JSON object`, { entity: e.name, location: `body[${i}]` });
  });
  // Columns: ?columns= when given, else the union of keys in body order.
  const names: string[] = q.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r as object)))];
  if (!names.length) throw apiError('C303', 'The body names no columns', { entity: e.name });
  const t = opts.table ?? e;
  const cols = names.map((n) => writableColumn(t, n, `body key "${n}"`));
  const p = new Params();
  const tuples = rows.map((r, i) => {
    const obj = r as Record<string, unknown>;
    if (!q.columns) for (const k of Object.keys(obj)) if (!t.columnsByName.has(k)) column(t, k, `body[${i}]`);
    return '(' + cols.map((c) => {
      if (!(c.name in obj)) return opts.missingDefault || c.hasDefault ? 'DEFAULT' : 'NULL';
      return p.add(bodyValue(c, obj[c.name], `body[${i}].${c.name}`));
    }).join(', ') + ')';
  });
  let conflict = '';
  if (opts.resolution) {
    const target = q.onConflict ?? e.primaryKey;
    if (!target.length) throw apiError('C306', `"${e.name}" has no primary key; name the unique columns with on_conflict`, { entity: e.name });
    target.forEach((c) => column(e, c, 'on_conflict'));
    const keys = [e.primaryKey, ...e.uniqueKeys];
    if (!keys.some((k) => k.length === target.length && k.every((c) => target.includes(c)))) {
      throw apiError('C306', `on_conflict=${target.join(',')} is not a unique key of "${e.name}"`, { entity: e.name, on_conflict: target, unique_keys: keys });
    }
    const updates = cols.filter((c) => !target.includes(c.name)).map((c) => `${ident(c.name)} = EXCLUDED.${ident(c.name)}`);
    conflict = ` ON CONFLICT (${target.map(ident).join(', ')}) ` + (opts.resolution === 'ignore-duplicates' ? 'DO NOTHING'
      : `DO UPDATE SET ${updates.length ? updates.join(', ') : `${ident(target[0])} = EXCLUDED.${ident(target[0])}`}`);
  }
  const dml = `INSERT INTO ${tableRef(e)} AS _t (${cols.map((c) => ident(c.name)).join(', ')}) VALUES ${tuples.join(', ')}${conflict}`;
  return { text: wrap(model, e, dml, q, p, opts.returnRows), values: p.values };
}

/** WHERE of an UPDATE/DELETE over alias _t: the root filters plus filters through relations. */
function writeWhere(model: Model, e: Entity, q: ReadQuery, p: Params): string {
  checkScopes(e, q, model);
  const ctx: PlanContext = { model, params: p, seq: 0, scopes: q.scopes };
  const root = q.scopes.get('')!.conditions;
  return [...(root.length ? [whereSql(e, '_t', root, p)] : []), ...hiddenFilters(e, '_t', q, ctx)].join(' AND ');
}

function requireFilter(e: Entity, q: ReadQuery, verb: string): void {
  const root = q.scopes.get('');
  const related = [...q.scopes.entries()].some(([path, sc]) => path !== '' && sc.conditions.length);
  if (!(root?.conditions.length) && !related) {
    throw apiError('C301', `${verb} on "${e.name}" needs at least one filter, so it cannot change every row by accident`, { entity: e.name, method: verb });
  }
  // limit/offset would be silently ignored and every matching row changed: refuse instead.
  const paging = root?.limit !== undefined ? 'limit' : root?.offset !== undefined ? 'offset' : null;
  if (paging) {
    throw apiError('C100', `${verb} on "${e.name}" does not take ${paging}: it changes every row its filters match`, { entity: e.name, method: verb, parameter: paging },
      'Narrow the filters to exactly the rows to change, e.g. ?id=eq.42.');
  }
}

export function planUpdate(model: Model, e: Entity, q: ReadQuery, body: unknown, opts: WriteOptions): { text: string; values: unknown[] } {
  ensureWritable(e, 'PATCH');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw apiError('C303', 'PATCH takes one JSON object of the columns to change', { entity: e.name });
  requireFilter(e, q, 'PATCH');
  const obj = body as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (!keys.length) throw apiError('C303', 'The PATCH body names no columns', { entity: e.name });
  const p = new Params();
  const sets = keys.map((k) => {
    const c = writableColumn(opts.table ?? e, k, `body key "${k}"`);
    return `${ident(c.name)} = ${p.add(bodyValue(c, obj[k], `body.${k}`))}`;
  });
  const where = writeWhere(model, e, q, p);
  const dml = `UPDATE ${tableRef(e)} AS _t SET ${sets.join(', ')} WHERE ${where}`;
  const before = `SELECT * FROM ${tableRef(e)} AS _t WHERE ${where}`;
  return { text: wrap(model, e, dml, q, p, opts.returnRows, before), values: p.values };
}

export function planDelete(model: Model, e: Entity, q: ReadQuery, opts: WriteOptions): { text: string; values: unknown[] } {
  ensureWritable(e, 'DELETE');
  requireFilter(e, q, 'DELETE');
  const p = new Params();
  const where = writeWhere(model, e, q, p);
  const dml = `DELETE FROM ${tableRef(e)} AS _t WHERE ${where}`;
  return { text: wrap(model, e, dml, q, p, opts.returnRows), values: p.values };
}
