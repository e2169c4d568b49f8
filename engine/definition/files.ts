// The definition as files: one JSON file per definition table (`schema.table.json`), rows
// named by natural keys, references written as the referenced row's name. Import is one
// validated transaction that makes the tables equal to the files; export writes them back in
// a canonical form, so export after import is byte-identical.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { DbClient, DbPool } from '../db/types.ts';
import { definitionTables, DefinitionError, ownedSql, topoOrder, type DefTable } from './tables.ts';
import { Params } from '../api/plan/sql.ts';
import { ident } from '../api/plan/sql.ts';

export type DefinitionFiles = Map<string, { file: string; rows: Record<string, unknown>[] }>;

export function readDefinitionDir(dir: string): DefinitionFiles {
  const out: DefinitionFiles = new Map();
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const file = path.join(dir, f);
    const text = fs.readFileSync(file, 'utf8');
    let rows: unknown;
    try {
      rows = JSON.parse(text);
    } catch (e) {
      throw new DefinitionError(`is not valid JSON: ${(e as Error).message}`, f, 'Fix the syntax; every definition file is a JSON array of row objects.');
    }
    if (!Array.isArray(rows)) throw new DefinitionError('must be a JSON array of row objects', f);
    rows.forEach((r, i) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new DefinitionError('is not an object', `${f}[${i}]`);
    });
    out.set(f.replace(/\.json$/, ''), { file: f, rows: rows as Record<string, unknown>[] });
  }
  return out;
}

function rowName(t: DefTable, row: Record<string, unknown>): unknown {
  return t.naturalKey.length === 1 ? row[t.naturalKey[0]] : t.naturalKey.map((k) => row[k]);
}

const keyOf = (v: unknown) => JSON.stringify(v);

export interface ImportResult { tables: number; upserted: number; deleted: number; snapshot: string }

/** Make the definition tables equal to the files, inside the caller's transaction. */
export async function importDefinition(client: DbClient, files: DefinitionFiles, schemas: string[]): Promise<ImportResult> {
  // The overlay (meta.entities) says how other tables' rows are named: load it first.
  const overlay = files.get('meta.entities');
  let first: ImportResult | null = null;
  if (overlay) first = await importTables(client, new Map([['meta.entities', overlay]]), schemas);
  const rest = await importTables(client, files, schemas);
  return { ...rest, upserted: rest.upserted + (first?.upserted ?? 0) };
}

async function importTables(client: DbClient, files: DefinitionFiles, schemas: string[]): Promise<ImportResult> {
  const tables = await definitionTables(client, schemas);
  for (const [q, f] of files) {
    if (!tables.has(q)) throw new DefinitionError(`names no definition table (known: ${[...tables.keys()].join(', ')})`, f.file, 'Name the file schema.table.json after a table watched with meta.watch_definition().');
  }
  const order = topoOrder(tables).filter((t) => files.has(t.qualified));
  const idsByName = new Map<string, Map<string, unknown>>(); // table:column → name key → that column's value
  let upserted = 0, deleted = 0;
  const present = new Map<string, Record<string, unknown>[]>();

  for (const t of order) {
    const { file, rows } = files.get(t.qualified)!;
    const seen = new Set<string>();
    const mapped = rows.map((row, i) => {
      const at = `${file}[${i}]`;
      for (const k of Object.keys(row)) {
        if (!t.columns.includes(k)) {
          throw new DefinitionError(`has key "${k}", which is not a column of ${t.qualified}`, `${at}.${k}`, `Columns: ${t.columns.join(', ')}.`);
        }
      }
      for (const k of t.naturalKey) {
        const nullable = t.entity.columnsByName.get(k)?.nullable;
        if (row[k] === undefined || (row[k] === null && !nullable)) throw new DefinitionError(`needs "${k}" (part of the row's name)`, at);
      }
      const name = keyOf(rowName(t, row));
      if (seen.has(name)) throw new DefinitionError(`repeats the name ${name}`, at);
      seen.add(name);
      const out: Record<string, unknown> = { ...row };
      for (const [col, ref] of t.refs) {
        if (row[col] === null || row[col] === undefined) continue;
        const id = idsByName.get(`${ref.table}:${ref.column}`)?.get(keyOf(row[col]));
        if (id === undefined) {
          const known = [...(idsByName.get(`${ref.table}:${ref.column}`)?.keys() ?? [])].slice(0, 20).join(', ');
          throw new DefinitionError(`${col} = ${JSON.stringify(row[col])} names no row of ${ref.table}`, `${at}.${col}`, `Known names: ${known || 'none'}.`);
        }
        out[col] = id;
      }
      for (const col of t.selfRefs.keys()) delete out[col]; // linked in a second pass
      return out;
    });
    present.set(t.qualified, mapped);
    const cols = t.columns.filter((c) => rows.some((r) => c in r) && !t.selfRefs.has(c));
    const tbl = `${ident(t.entity.schema)}.${ident(t.entity.table)}`;
    if (mapped.length) {
      const updates = cols.filter((c) => !t.naturalKey.includes(c)).map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`);
      const list = cols.map(ident).join(', ');
      const sql = `INSERT INTO ${tbl} (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::${tbl}, $1::jsonb)
        ON CONFLICT (${t.naturalKey.map(ident).join(', ')}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
      try {
        const r = await client.query(sql, [JSON.stringify(mapped)]);
        upserted += r.rowCount ?? 0;
      } catch (e) {
        throw new DefinitionError(`could not be loaded: ${(e as Error).message}`, file, (e as { detail?: string }).detail);
      }
    }
    // name → referenced column value, for children's references
    const refCols = new Set([...tables.values()].flatMap((x) => [...x.refs.values()].filter((r) => r.table === t.qualified).map((r) => r.column)));
    const wanted = [...new Set([...t.naturalKey, ...refCols, ...t.selfRefs.values()])];
    const all = await client.query(`SELECT ${wanted.map(ident).join(', ')} FROM ${tbl}`);
    const nameMaps = await reverseNames(t, all.rows, idsByName);
    for (const c of refCols) idsByName.set(`${t.qualified}:${c}`, new Map(all.rows.map((row, i) => [nameMaps[i], row[c]])));
    if (t.selfRefs.size) upserted += await linkSelf(client, t, file, rows, mapped, nameMaps, all.rows);
  }
  // Remove rows that the files no longer have: children first.
  for (const t of [...order].reverse()) {
    const tbl = `${ident(t.entity.schema)}.${ident(t.entity.table)}`;
    const same = t.naturalKey.map((k) => `_f.${ident(k)} IS NOT DISTINCT FROM _t.${ident(k)}`).join(' AND ');
    const p = new Params();
    const rowsParam = p.add(JSON.stringify(present.get(t.qualified)));
    const scope = ownedSql(t, tables, p);
    try {
      const r = await client.query(`DELETE FROM ${tbl} _t WHERE ${scope} AND NOT EXISTS (SELECT 1 FROM jsonb_populate_recordset(NULL::${tbl}, ${rowsParam}::jsonb) _f WHERE ${same})`, p.values);
      deleted += r.rowCount ?? 0;
    } catch (e) {
      throw new DefinitionError(`rows missing from the file could not be removed: ${(e as Error).message}`, files.get(t.qualified)!.file, (e as { detail?: string }).detail);
    }
  }
  const snapshot = crypto.createHash('sha256').update(JSON.stringify([...files.entries()].map(([k, v]) => [k, v.rows]))).digest('hex');
  return { tables: order.length, upserted, deleted, snapshot };
}

/** Second pass for references to rows of the same table (e.g. a parent role). */
async function linkSelf(client: DbClient, t: DefTable, file: string, rows: Record<string, unknown>[], mapped: Record<string, unknown>[], nameKeys: string[], dbRows: Record<string, unknown>[]): Promise<number> {
  const tbl = `${ident(t.entity.schema)}.${ident(t.entity.table)}`;
  const updates = mapped.map((m, i) => {
    const out: Record<string, unknown> = {};
    for (const k of t.naturalKey) out[k] = m[k];
    for (const [col, target] of t.selfRefs) {
      if (!(col in rows[i])) continue;
      if (rows[i][col] === null) { out[col] = null; continue; }
      const at = dbRows.findIndex((_, j) => nameKeys[j] === keyOf(rows[i][col]));
      if (at < 0) throw new DefinitionError(`${col} = ${JSON.stringify(rows[i][col])} names no row of ${t.qualified}`, `${file}[${i}].${col}`);
      out[col] = dbRows[at][target];
    }
    return out;
  });
  const cols = [...t.selfRefs.keys()].filter((c) => rows.some((r) => c in r));
  if (!cols.length) return 0;
  const same = t.naturalKey.map((k) => `_f.${ident(k)} IS NOT DISTINCT FROM _t.${ident(k)}`).join(' AND ');
  const r = await client.query(`UPDATE ${tbl} _t SET ${cols.map((c) => `${ident(c)} = _f.${ident(c)}`).join(', ')}
    FROM jsonb_populate_recordset(NULL::${tbl}, $1::jsonb) _f WHERE ${same} AND (${cols.map((c) => `_t.${ident(c)} IS DISTINCT FROM _f.${ident(c)}`).join(' OR ')})`, [JSON.stringify(updates)]);
  return r.rowCount ?? 0;
}

/** For rows of t (raw ids), the JSON key of each row's name with references turned into names. */
async function reverseNames(t: DefTable, rows: Record<string, unknown>[], idsByName: Map<string, Map<string, unknown>>): Promise<string[]> {
  const back = new Map<string, Map<string, string>>();
  for (const [col, ref] of t.refs) {
    const m = new Map<string, string>();
    for (const [name, id] of idsByName.get(`${ref.table}:${ref.column}`) ?? []) m.set(String(id), name);
    back.set(col, m);
  }
  return rows.map((row) => {
    const named: Record<string, unknown> = { ...row };
    for (const [col, m] of back) if (row[col] !== null && row[col] !== undefined) named[col] = JSON.parse(m.get(String(row[col])) ?? 'null');
    return keyOf(rowName(t, named));
  });
}

/** Canonical text of every definition table. */
export async function exportDefinition(client: DbPool | DbClient, schemas: string[]): Promise<Map<string, string>> {
  const tables = await definitionTables(client, schemas);
  const names = new Map<string, Map<string, unknown>>(); // table:column → String(that column's value) → row name
  const out = new Map<string, string>();
  for (const t of topoOrder(tables)) {
    const tbl = `${ident(t.entity.schema)}.${ident(t.entity.table)}`;
    const p = new Params();
    const res = await client.query(`SELECT to_jsonb(_t) AS r FROM ${tbl} _t WHERE ${ownedSql(t, tables, p)}`, p.values);
    const rows = res.rows.map((x) => x.r as Record<string, unknown>);
    // names of this table's own rows, for self references (a parent row)
    const own = new Map<string, unknown>();
    if (t.selfRefs.size) {
      for (const raw of rows) {
        const named: Record<string, unknown> = { ...raw };
        for (const [c, ref] of t.refs) if (raw[c] !== null) named[c] = names.get(`${ref.table}:${ref.column}`)?.get(String(raw[c])) ?? raw[c];
        for (const target of t.selfRefs.values()) own.set(`${target}:${String(raw[target])}`, rowName(t, named));
      }
    }
    const refCols = new Set([...tables.values()].flatMap((x) => [...x.refs.values()].filter((r) => r.table === t.qualified).map((r) => r.column)));
    const shaped = rows.map((raw) => {
      const row: Record<string, unknown> = {};
      for (const c of t.columns) {
        const ref = t.refs.get(c);
        const self = t.selfRefs.get(c);
        row[c] = raw[c] === null || raw[c] === undefined ? null
          : ref ? names.get(`${ref.table}:${ref.column}`)?.get(String(raw[c])) ?? raw[c]
            : self ? own.get(`${self}:${String(raw[c])}`) ?? raw[c] : raw[c];
      }
      return { raw, row };
    });
    for (const c of refCols) names.set(`${t.qualified}:${c}`, new Map(shaped.map(({ raw, row }) => [String(raw[c]), rowName(t, row)])));
    shaped.sort((a, b) => (keyOf(rowName(t, a.row)) < keyOf(rowName(t, b.row)) ? -1 : 1));
    out.set(`${t.qualified}.json`, JSON.stringify(shaped.map((s) => s.row), null, 2) + '\n');
  }
  return out;
}

export function writeDefinitionDir(dir: string, files: Map<string, string>): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const changed: string[] = [];
  for (const [f, text] of files) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== text) {
      fs.writeFileSync(p, text);
      changed.push(f);
    }
  }
  return changed;
}
