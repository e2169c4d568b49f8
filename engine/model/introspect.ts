// Reads the PostgreSQL catalog in one round trip and turns it, with the definition's overlay
// rows, into the Model the API plans against.
import type { DbClient, DbPool } from '../db/types.ts';
import type { Action, Column, DbFunction, Entity, ForeignKey, Model, Relationship, TypeClass } from './types.ts';

const CATALOG_SQL = `
WITH rels AS (
  SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r','v','m','p','f')
)
SELECT json_build_object(
  'relations', (SELECT coalesce(json_agg(json_build_object(
      'schema', r.schema, 'name', r.name, 'kind', r.kind, 'comment', r.comment,
      'columns', (SELECT coalesce(json_agg(json_build_object(
          'name', a.attname, 'sqlType', format_type(a.atttypid, a.atttypmod),
          'typeName', CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN (SELECT et.typname FROM pg_type et WHERE et.oid = t.typelem) ELSE coalesce(bt.typname, t.typname) END,
          'typeCategory', coalesce(bt.typcategory, t.typcategory)::text,
          'isArray', (t.typelem <> 0 AND t.typlen = -1),
          'notNull', a.attnotnull, 'hasDefault', a.atthasdef OR a.attidentity <> '',
          'identity', a.attidentity <> '', 'generated', a.attgenerated <> '',
          'position', a.attnum, 'comment', col_description(r.oid, a.attnum)) ORDER BY a.attnum), '[]'::json)
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
        WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped),
      'constraints', (SELECT coalesce(json_agg(json_build_object(
          'name', k.conname, 'type', k.contype::text,
          'columns', (SELECT json_agg(a.attname ORDER BY u.i) FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n),
          'targetSchema', fn.nspname, 'targetTable', fc.relname,
          'targetColumns', (SELECT json_agg(a.attname ORDER BY u.i) FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n)
        ) ORDER BY k.conname), '[]'::json)
        FROM pg_constraint k LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE k.conrelid = r.oid AND k.contype IN ('p','u','f'))
    ) ORDER BY r.schema, r.name), '[]'::json) FROM rels r)
) AS catalog`;

interface RawColumn {
  name: string; sqlType: string; typeName: string; typeCategory: string; isArray: boolean;
  notNull: boolean; hasDefault: boolean; identity: boolean; generated: boolean; position: number; comment: string | null;
}
interface RawConstraint { name: string; type: 'p' | 'u' | 'f'; columns: string[]; targetSchema: string | null; targetTable: string | null; targetColumns: string[] | null }
interface RawRelation { schema: string; name: string; kind: string; comment: string | null; columns: RawColumn[]; constraints: RawConstraint[] }

function classify(typeName: string, category: string): TypeClass {
  if (['int2', 'int4', 'int8', 'oid'].includes(typeName)) return 'integer';
  if (['numeric', 'float4', 'float8', 'money'].includes(typeName)) return 'number';
  if (typeName === 'bool') return 'boolean';
  if (typeName === 'uuid') return 'uuid';
  if (typeName === 'json' || typeName === 'jsonb') return 'json';
  if (typeName === 'timestamptz' || typeName === 'timestamp') return 'timestamp';
  if (typeName === 'date') return 'date';
  if (typeName === 'time' || typeName === 'timetz') return 'time';
  if (typeName === 'interval') return 'interval';
  if (typeName === 'bytea') return 'bytea';
  if (category === 'S') return 'text';
  return 'other';
}

export function titleCase(name: string): string {
  return name.replace(/_id$/, '').split(/[_.]/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');
}

const KIND: Record<string, Entity['kind']> = { r: 'table', p: 'table', v: 'view', m: 'materialized_view', f: 'foreign_table' };

async function tableExists(client: DbPool | DbClient, qualified: string): Promise<boolean> {
  const r = await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [qualified]);
  return r.rows[0].ok;
}

const FUNCTIONS_SQL = `
SELECT n.nspname AS schema, p.proname AS name, p.proretset AS returns_set,
  format_type(p.prorettype, NULL) AS return_type, obj_description(p.oid, 'pg_proc') AS comment,
  coalesce(p.proargnames, '{}') AS arg_names, p.pronargs AS nargs, p.pronargdefaults AS ndefaults,
  (SELECT coalesce(array_agg(format_type(t, NULL) ORDER BY i), '{}') FROM unnest(p.proargtypes) WITH ORDINALITY u(t, i)) AS arg_types
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1) AND p.prokind = 'f' AND p.prorettype <> 'trigger'::regtype AND p.prorettype <> 'event_trigger'::regtype`;

export async function loadModel(client: DbPool | DbClient, schemas: string[], version: number): Promise<Model> {
  const res = await client.query(CATALOG_SQL, [schemas]);
  const raw: RawRelation[] = res.rows[0].catalog.relations;

  // Overlay rows; each table may not exist yet on a database being migrated.
  const entityRows = (await tableExists(client, 'meta.entities')) ? (await client.query('SELECT * FROM meta.entities')).rows : [];
  const fieldRows = (await tableExists(client, 'meta.fields')) ? (await client.query('SELECT * FROM meta.fields')).rows : [];
  const actionRows = (await tableExists(client, 'meta.actions')) ? (await client.query('SELECT * FROM meta.actions ORDER BY action_name')).rows : [];
  const configRows = (await tableExists(client, 'meta.system_configuration'))
    ? (await client.query('SELECT config_key, config_value FROM meta.system_configuration')).rows : [];

  const entityOverlay = new Map(entityRows.map((r) => [r.entity_name as string, r]));
  const fieldOverlay = new Map(fieldRows.map((r) => [`${r.entity_name}.${r.field_name}`, r]));

  // API names: table name, unless an earlier schema already took it.
  const nameOf = new Map<string, string>();
  const taken = new Set<string>();
  const ordered = [...raw].sort((a, b) => schemas.indexOf(a.schema) - schemas.indexOf(b.schema) || a.name.localeCompare(b.name));
  for (const r of ordered) {
    const apiName = taken.has(r.name) ? `${r.schema}.${r.name}` : r.name;
    taken.add(apiName);
    nameOf.set(`${r.schema}.${r.name}`, apiName);
  }

  const entities = new Map<string, Entity>();
  for (const r of ordered) {
    const name = nameOf.get(`${r.schema}.${r.name}`)!;
    const ov = entityOverlay.get(name);
    const columns: Column[] = r.columns.map((c) => {
      const f = fieldOverlay.get(`${name}.${c.name}`);
      const cls = classify(c.typeName, c.typeCategory);
      return {
        name: c.name, sqlType: c.sqlType, typeName: c.typeName,
        typeClass: c.isArray ? 'array' : cls, elementClass: c.isArray ? cls : undefined,
        nullable: !c.notNull, hasDefault: c.hasDefault, identity: c.identity, generated: c.generated,
        position: c.position, comment: c.comment,
        label: f?.label ?? titleCase(c.name), description: f?.description ?? c.comment,
        format: f?.format ?? null, widget: f?.widget ?? null, hidden: f?.hidden ?? false,
        readonly: (f?.readonly ?? false) || c.generated, validation: f?.validation ?? null, secret: f?.secret === true,
      };
    });
    const pk = r.constraints.find((k) => k.type === 'p');
    const fks: ForeignKey[] = r.constraints.filter((k) => k.type === 'f').map((k) => ({
      name: k.name, columns: k.columns,
      target: nameOf.get(`${k.targetSchema}.${k.targetTable}`) ?? `${k.targetSchema}.${k.targetTable}`,
      targetSchema: k.targetSchema!, targetTable: k.targetTable!, targetColumns: k.targetColumns ?? [],
    }));
    entities.set(name, {
      name, schema: r.schema, table: r.name, kind: KIND[r.kind] ?? 'table', comment: r.comment,
      columns, columnsByName: new Map(columns.map((c) => [c.name, c])),
      primaryKey: pk?.columns ?? [],
      uniqueKeys: r.constraints.filter((k) => k.type === 'u').map((k) => k.columns),
      foreignKeys: fks,
      label: ov?.label ?? titleCase(r.name), description: ov?.description ?? r.comment,
      exposed: ov ? ov.exposed !== false : true,
      defaultOrder: ov?.default_order ?? null, maxRows: ov?.max_rows ?? null,
      naturalKey: ov?.natural_key ?? null,
      definitionFilter: ov?.definition_filter ?? null,
    });
  }

  const actions = new Map<string, Action>(actionRows.map((a) => [a.action_name, {
    name: a.action_name, label: a.label ?? titleCase(a.action_name), description: a.description,
    kind: a.kind, target: a.target, paramsSchema: a.params_schema ?? { type: 'object' },
    returns: a.returns, permission: a.permission, confirm: a.confirm, enabled: a.enabled,
  }]));

  const functions = new Map<string, DbFunction>();
  for (const f of (await client.query(FUNCTIONS_SQL, [schemas])).rows) {
    const names: string[] = f.arg_names.slice(0, f.nargs);
    functions.set(`${f.schema}.${f.name}`, {
      schema: f.schema, name: f.name, returnsSet: f.returns_set, returnType: f.return_type, comment: f.comment,
      args: (f.arg_types as string[]).map((t, i) => ({ name: names[i] ?? '', type: t, hasDefault: i >= f.nargs - f.ndefaults })),
    });
  }

  return {
    version, loadedAt: new Date(), entities, functions,
    relationships: buildRelationships(entities), actions,
    config: new Map(configRows.map((r) => [r.config_key as string, r.config_value])),
    schemas,
  };
}

export function buildRelationships(entities: Map<string, Entity>): Map<string, Relationship[]> {
  const rels = new Map<string, Relationship[]>();
  const add = (k: string, r: Relationship) => { if (!rels.has(k)) rels.set(k, []); rels.get(k)!.push(r); };
  for (const e of entities.values()) {
    for (const fk of e.foreignKeys) {
      if (!entities.has(fk.target)) continue;
      add(e.name, { name: fk.name, cardinality: 'many-to-one', from: e.name, to: fk.target, fromColumns: fk.columns, toColumns: fk.targetColumns });
      add(fk.target, { name: fk.name, cardinality: 'one-to-many', from: fk.target, to: e.name, fromColumns: fk.targetColumns, toColumns: fk.columns });
    }
    // A junction: a table whose primary key is exactly two foreign keys' columns.
    if (e.foreignKeys.length >= 2 && e.primaryKey.length >= 2) {
      for (const a of e.foreignKeys) {
        for (const b of e.foreignKeys) {
          if (a === b || !entities.has(a.target) || !entities.has(b.target)) continue;
          const covered = [...a.columns, ...b.columns];
          if (!covered.every((c) => e.primaryKey.includes(c))) continue;
          add(a.target, {
            name: `${e.name}`, cardinality: 'many-to-many', from: a.target, to: b.target,
            fromColumns: a.targetColumns, toColumns: b.targetColumns, junction: { entity: e.name, fromFk: a, toFk: b },
          });
        }
      }
    }
  }
  return rels;
}
