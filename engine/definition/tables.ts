// Which tables form the definition, and how their rows are named. A definition table is one
// carrying the carry_model_change trigger (meta.watch_definition); its rows are named by a
// natural key, and references between definition rows are written as those names.
import type { DbClient, DbPool } from '../db/types.ts';
import { loadModel } from '../model/introspect.ts';
import type { Entity } from '../model/types.ts';
import { parseQuery } from '../api/parse/query.ts';
import type { Condition } from '../api/parse/ast.ts';
import { whereSql } from '../api/plan/conditions.ts';
import { ident, Params } from '../api/plan/sql.ts';

/** Bookkeeping columns the database fills; never written to definition files. */
export const OMITTED_COLUMNS = new Set(['created_at', 'updated_at']);

export interface DefTable {
  qualified: string; // schema.table
  entity: Entity;
  naturalKey: string[];
  /** surrogate primary-key columns, filled by the database and left out of files */
  surrogate: string[];
  /** columns written to files, in catalog order */
  columns: string[];
  /** foreign keys to other definition tables: column → target table and column */
  refs: Map<string, { table: string; column: string }>;
  /** foreign keys to the table itself (e.g. a parent row): column → referenced column */
  selfRefs: Map<string, string>;
  /** conditions selecting the rows that belong to the definition (meta.entities.definition_filter) */
  scope: Condition[] | null;
}

export class DefinitionError extends Error {
  constructor(message: string, public location: string, public hint?: string) { super(`${location}: ${message}`); }
}

export async function definitionTables(client: DbPool | DbClient, schemas: string[]): Promise<Map<string, DefTable>> {
  const model = await loadModel(client, schemas, 0);
  const trig = await client.query(`SELECT n.nspname || '.' || c.relname AS q FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname = 'carry_model_change' AND n.nspname = ANY($1)`, [schemas]);
  const names = new Set<string>(trig.rows.map((r) => r.q));
  const byQualified = new Map<string, Entity>();
  for (const e of model.entities.values()) byQualified.set(`${e.schema}.${e.table}`, e);
  const out = new Map<string, DefTable>();
  for (const q of [...names].sort()) {
    const e = byQualified.get(q)!;
    const pkHasDefault = e.primaryKey.some((c) => e.columnsByName.get(c)?.hasDefault);
    // fewest columns first, then the key whose first column comes first in the table
    const pos = (k: string[]) => e.columnsByName.get(k[0])?.position ?? 0;
    const uniques = [...e.uniqueKeys].sort((a, b) => a.length - b.length || pos(a) - pos(b));
    const naturalKey = e.naturalKey ?? (e.primaryKey.length && !pkHasDefault ? e.primaryKey : uniques[0]);
    if (!naturalKey?.length) throw new DefinitionError('has no natural key: give it a unique key, a primary key without a default, or meta.entities.natural_key', q);
    const surrogate = pkHasDefault && naturalKey.join() !== e.primaryKey.join() ? e.primaryKey : [];
    const refs = new Map<string, { table: string; column: string }>();
    const selfRefs = new Map<string, string>();
    for (const fk of e.foreignKeys) {
      const t = `${fk.targetSchema}.${fk.targetTable}`;
      if (fk.columns.length !== 1) continue;
      if (t === q) selfRefs.set(fk.columns[0], fk.targetColumns[0]);
      else if (names.has(t)) refs.set(fk.columns[0], { table: t, column: fk.targetColumns[0] });
    }
    let scope: DefTable['scope'] = null;
    if (e.definitionFilter) {
      try {
        scope = parseQuery([...new URLSearchParams(e.definitionFilter).entries()]).scopes.get('')!.conditions;
        whereSql(e, '_t', scope, new Params()); // validates columns and values now
      } catch (err) {
        throw new DefinitionError(`definition_filter "${e.definitionFilter}" is invalid: ${(err as Error).message}`, `entities[name=${e.name}].definition_filter`);
      }
    }
    const columns = e.columns.map((c) => c.name).filter((c) => !surrogate.includes(c) && !OMITTED_COLUMNS.has(c) && !e.columnsByName.get(c)!.generated);
    out.set(q, { qualified: q, entity: e, naturalKey, surrogate, columns, refs, selfRefs, scope });
  }
  return out;
}

/** Parents before children, by references between definition tables. */
export function topoOrder(tables: Map<string, DefTable>): DefTable[] {
  const done = new Set<string>();
  const out: DefTable[] = [];
  const visit = (q: string, stack: string[]) => {
    if (done.has(q)) return;
    if (stack.includes(q)) throw new DefinitionError(`circular references between definition tables: ${[...stack, q].join(' → ')}`, q);
    const t = tables.get(q)!;
    for (const r of t.refs.values()) if (tables.has(r.table)) visit(r.table, [...stack, q]);
    done.add(q);
    out.push(t);
  };
  for (const q of tables.keys()) visit(q, []);
  return out;
}

/** SQL over alias _t for a table's definition scope, numbering parameters after `p`'s. */
export function scopeSql(t: DefTable, p: Params, alias = '_t'): string {
  return t.scope?.length ? whereSql(t.entity, alias, t.scope, p) : 'true';
}

/**
 * Rows of t that belong to the definition: inside its own scope, and — when a referenced
 * definition table is scoped — pointing only at that table's definition rows.
 */
export function ownedSql(t: DefTable, tables: Map<string, DefTable>, p: Params): string {
  const parts = [scopeSql(t, p)];
  let n = 0;
  for (const [col, ref] of t.refs) {
    const parent = tables.get(ref.table);
    if (!parent?.scope?.length) continue;
    const a = `_p${n++}`;
    parts.push(`(_t.${ident(col)} IS NULL OR _t.${ident(col)} IN (SELECT ${a}.${ident(ref.column)} FROM ${ident(parent.entity.schema)}.${ident(parent.entity.table)} ${a} WHERE ${scopeSql(parent, p, a)}))`);
  }
  return parts.join(' AND ');
}
