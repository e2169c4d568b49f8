// Which tables form the definition, and how their rows are named. A definition table is one
// carrying the carry_model_change trigger (meta.watch_definition); its rows are named by a
// natural key, and references between definition rows are written as those names.
import type pg from 'pg';
import { loadModel } from '../model/introspect.ts';
import type { Entity } from '../model/types.ts';

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
}

export class DefinitionError extends Error {
  constructor(message: string, public location: string, public hint?: string) { super(`${location}: ${message}`); }
}

export async function definitionTables(client: pg.Pool | pg.PoolClient, schemas: string[]): Promise<Map<string, DefTable>> {
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
    const uniques = [...e.uniqueKeys].sort((a, b) => a.length - b.length);
    const naturalKey = e.naturalKey ?? (e.primaryKey.length && !pkHasDefault ? e.primaryKey : uniques[0]);
    if (!naturalKey?.length) throw new DefinitionError('has no natural key: give it a unique key, a primary key without a default, or meta.entities.natural_key', q);
    const surrogate = pkHasDefault && naturalKey.join() !== e.primaryKey.join() ? e.primaryKey : [];
    const refs = new Map<string, { table: string; column: string }>();
    for (const fk of e.foreignKeys) {
      const t = `${fk.targetSchema}.${fk.targetTable}`;
      if (fk.columns.length === 1 && names.has(t) && t !== q) refs.set(fk.columns[0], { table: t, column: fk.targetColumns[0] });
    }
    const columns = e.columns.map((c) => c.name).filter((c) => !surrogate.includes(c) && !OMITTED_COLUMNS.has(c) && !e.columnsByName.get(c)!.generated);
    out.set(q, { qualified: q, entity: e, naturalKey, surrogate, columns, refs });
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
