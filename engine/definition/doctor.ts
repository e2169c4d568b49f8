// carry doctor: loads the definition files into a transaction that is always rolled back, then
// checks the rows against the catalog — dangling references, components naming unknown
// entities or columns, filters and orders that do not parse, actions whose target is missing,
// permissions nobody holds, views nobody can open, jobs with bad schedules.
import type { DbClient } from '../db/types.ts';
import { Ajv } from 'ajv';
import type { Db } from '../db/connect.ts';
import { loadModel } from '../model/introspect.ts';
import type { Model } from '../model/types.ts';
import { importDefinition, readDefinitionDir } from './files.ts';
import { DEFINITION_SCHEMAS } from './seed.ts';
import { DefinitionError } from './tables.ts';
import { BlockRegistry } from '../actions/registry.ts';
import { loadPlugins } from '../engine.ts';
import { parseOrder, parseQuery } from '../api/parse/query.ts';
import { planRead } from '../api/plan/read.ts';
import { ApiError } from '../api/errors.ts';
import type { Condition } from '../api/parse/ast.ts';

export interface Finding { severity: 'error' | 'warning'; code: string; location: string; message: string; hint?: string }

type Row = Record<string, unknown>;

async function rows(c: DbClient, table: string, key: string): Promise<Row[]> {
  const ok = await c.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  if (!ok.rows[0].ok) return [];
  return (await c.query(`SELECT to_jsonb(t) AS r FROM ${table} t ORDER BY ${key}`)).rows.map((r) => r.r);
}

/** Variables a stored filter may use; they are bound when the filter runs. */
export const FILTER_VARIABLE = /^\$(user\.[a-z_]+|route\.[a-z_]+|row\.[a-z_]+|now([+-]\d+[smhdw])?)$/;

const SAMPLE: Record<string, string> = { integer: '1', number: '1', boolean: 'true', uuid: '00000000-0000-0000-0000-000000000000', timestamp: '2000-01-01T00:00:00Z', date: '2000-01-01' };

/** Replace $variables by a sample of the compared column's type, refusing unknown ones. */
function bindSamples(model: Model, entity: string, conds: Condition[], path: string): void {
  for (const c of conds) {
    if (c.kind === 'logic') { bindSamples(model, entity, c.children, path); continue; }
    const e = model.entities.get(entity);
    const col = e?.columnsByName.get(c.field.name);
    const sample = (v: string) => {
      if (!v.startsWith('$')) return v;
      if (!FILTER_VARIABLE.test(v)) throw new Error(`unknown variable "${v}" (use $user.<field>, $route.<name>, $row.<column>, $now or $now-7d)`);
      return c.field.json.length ? 'x' : SAMPLE[col?.typeClass ?? ''] ?? 'x';
    };
    c.value = Array.isArray(c.value) ? c.value.map(sample) : sample(c.value);
  }
}

/** Check a filter string (PostgREST query grammar) against an entity by planning it. */
function checkFilter(model: Model, entity: string, filter: string, location: string, out: Finding[]): void {
  const e = model.entities.get(entity);
  if (!e) return;
  try {
    const q = parseQuery([...new URLSearchParams(filter).entries()]);
    for (const [path, scope] of q.scopes) {
      const target = path === '' ? entity : (model.relationships.get(entity) ?? []).find((r) => r.to === path)?.to ?? entity;
      bindSamples(model, target, scope.conditions, path);
    }
    planRead(model, e, q, { count: 'none', limit: 1 });
  } catch (err) {
    const msg = err instanceof ApiError ? err.message : (err as Error).message;
    out.push({ severity: 'error', code: 'filter', location, message: `filter "${filter}" is invalid: ${msg}`, hint: err instanceof ApiError ? err.hint ?? undefined : undefined });
  }
}

export async function runDoctor(db: Db, opts: { definitionDir: string | null; pluginsDir: string }): Promise<Finding[]> {
  const out: Finding[] = [];
  const blocks = new BlockRegistry();
  await loadPlugins(opts.pluginsDir, blocks);
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    if (opts.definitionDir) {
      try {
        await importDefinition(client, readDefinitionDir(opts.definitionDir), DEFINITION_SCHEMAS);
      } catch (e) {
        if (!(e instanceof DefinitionError)) throw e;
        out.push({ severity: 'error', code: 'import', location: e.location, message: e.message.slice(e.location.length + 2), hint: e.hint });
        return out;
      }
    }
    const model = await loadModel(client, DEFINITION_SCHEMAS, 0);
    await checkModel(client, model, blocks, out);
    return out;
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}

async function checkModel(c: DbClient, model: Model, blocks: BlockRegistry, out: Finding[]): Promise<void> {
  const entity = (name: unknown, location: string): boolean => {
    if (typeof name === 'string' && model.entities.has(name)) return true;
    out.push({ severity: 'error', code: 'unknown-entity', location, message: `names entity "${String(name)}", which does not exist`, hint: 'Use a table or view name served by the API (see /api/openapi.json).' });
    return false;
  };
  const columnOf = (ent: string, col: unknown, location: string) => {
    const e = model.entities.get(ent)!;
    const name = typeof col === 'string' ? col : (col as Row | null)?.field ?? (col as Row | null)?.name;
    if (typeof name === 'string' && e.columnsByName.has(name)) return;
    out.push({ severity: 'error', code: 'unknown-column', location, message: `names column "${String(name)}", which ${e.name} does not have`, hint: `${e.name} has: ${e.columns.map((x) => x.name).join(', ')}` });
  };

  for (const ov of await rows(c, 'meta.entities', 'entity_name')) {
    const loc = `entities[name=${ov.entity_name}]`;
    if (!entity(ov.entity_name, loc)) continue;
    if (ov.default_order) {
      try { parseOrder(String(ov.default_order), 'default_order').forEach((o) => columnOf(String(ov.entity_name), o.field.name, `${loc}.default_order`)); }
      catch (e) { out.push({ severity: 'error', code: 'order', location: `${loc}.default_order`, message: (e as Error).message }); }
    }
  }
  for (const f of await rows(c, 'meta.fields', 'entity_name, field_name')) {
    const loc = `fields[name=${f.entity_name}.${f.field_name}]`;
    if (entity(f.entity_name, loc)) columnOf(String(f.entity_name), f.field_name, `${loc}.field_name`);
  }
  const ajv = new Ajv({ strict: false });
  for (const a of model.actions.values()) {
    const loc = `actions[name=${a.name}]`;
    if (a.kind === 'plugin' && !blocks.get(a.target)) {
      out.push({ severity: a.enabled ? 'error' : 'warning', code: 'missing-block', location: `${loc}.target`, message: `calls building block "${a.target}", which no plugin registers${a.enabled ? '' : ' (the action is disabled)'}`, hint: `Registered: ${blocks.names().join(', ') || 'none'}` });
    }
    if (a.kind === 'sql_function' && !model.functions.has(a.target)) {
      out.push({ severity: a.enabled ? 'error' : 'warning', code: 'missing-function', location: `${loc}.target`, message: `calls function "${a.target}", which does not exist`, hint: 'Name it schema.function, in a served schema.' });
    }
    try { ajv.compile(a.paramsSchema); } catch (e) { out.push({ severity: 'error', code: 'schema', location: `${loc}.params_schema`, message: (e as Error).message }); }
  }

  const views = await rows(c, 'meta.ui_views', 'view_id');
  const viewName = new Map(views.map((v) => [String(v.view_id), String(v.view_name)]));
  for (const comp of await rows(c, 'meta.ui_components', 'component_id')) {
    const loc = `ui_components[name=${comp.component_name}]`;
    const cfg = (comp.config_json ?? {}) as Row;
    if (cfg.entity === undefined) continue;
    if (!entity(cfg.entity, `${loc}.config.entity`)) continue;
    const ent = String(cfg.entity);
    for (const key of ['columns', 'y']) {
      const list = cfg[key];
      if (Array.isArray(list)) list.forEach((col, i) => columnOf(ent, col, `${loc}.config.${key}[${i}]`));
    }
    for (const key of ['x', 'value', 'label_field']) if (typeof cfg[key] === 'string') columnOf(ent, cfg[key], `${loc}.config.${key}`);
    if (typeof cfg.filter === 'string' && cfg.filter) checkFilter(model, ent, cfg.filter, `${loc}.config.filter`, out);
    if (typeof cfg.order === 'string' && cfg.order) checkFilter(model, ent, `order=${cfg.order}`, `${loc}.config.order`, out);
    const acts = cfg.row_actions ?? cfg.actions;
    if (Array.isArray(acts)) acts.forEach((a, i) => {
      const name = typeof a === 'string' ? a : (a as Row)?.action;
      if (!model.actions.has(String(name))) out.push({ severity: 'error', code: 'unknown-action', location: `${loc}.config.row_actions[${i}]`, message: `names action "${String(name)}", which does not exist`, hint: `Actions: ${[...model.actions.keys()].join(', ')}` });
    });
    if (comp.view_id !== null && comp.view_id !== undefined && !viewName.has(String(comp.view_id))) {
      out.push({ severity: 'error', code: 'dangling', location: `${loc}.view_id`, message: 'names a view that does not exist' });
    }
  }

  for (const p of await rows(c, 'meta.policies', 'policy_name')) {
    const loc = `policies[name=${p.policy_name}]`;
    if (!entity(p.entity_name, `${loc}.entity_name`)) continue;
    if (typeof p.row_filter === 'string' && p.row_filter) checkFilter(model, String(p.entity_name), p.row_filter, `${loc}.row_filter`, out);
    if (Array.isArray(p.columns)) p.columns.forEach((col, i) => columnOf(String(p.entity_name), col, `${loc}.columns[${i}]`));
  }

  const held = await c.query(`SELECT p.permission_name FROM meta.permissions p WHERE NOT EXISTS (SELECT 1 FROM meta.role_permissions rp WHERE rp.permission_id = p.permission_id) ORDER BY 1`).catch(() => ({ rows: [] as Row[] }));
  for (const r of held.rows) out.push({ severity: 'warning', code: 'unheld-permission', location: `permissions[name=${r.permission_name}]`, message: 'no role holds this permission' });
  const unreachable = await c.query(`SELECT v.view_name FROM meta.ui_views v WHERE NOT coalesce(v.is_public, false) AND NOT EXISTS (SELECT 1 FROM meta.view_role_access a WHERE a.view_id = v.view_id) ORDER BY 1`).catch(() => ({ rows: [] as Row[] }));
  for (const r of unreachable.rows) out.push({ severity: 'warning', code: 'unreachable-view', location: `ui_views[name=${r.view_name}]`, message: 'no role can open this view and it is not public' });

  for (const j of await rows(c, 'meta.jobs', 'job_name')) {
    const loc = `jobs[name=${j.job_name}]`;
    if (j.action_name && !model.actions.has(String(j.action_name))) out.push({ severity: 'error', code: 'unknown-action', location: `${loc}.action_name`, message: `runs action "${j.action_name}", which does not exist` });
    if (j.schedule_kind === 'interval' && !(Number(j.interval_ms) > 0)) out.push({ severity: 'error', code: 'schedule', location: `${loc}.interval_ms`, message: 'an interval job needs interval_ms > 0' });
    if (j.schedule_kind === 'cron' && !/^(\S+\s+){4}\S+$/.test(String(j.cron ?? '').trim())) out.push({ severity: 'error', code: 'schedule', location: `${loc}.cron`, message: `"${j.cron}" is not a five-field cron expression` });
  }
  for (const d of await rows(c, 'meta.data_endpoints', 'endpoint_name')) {
    const loc = `data_endpoints[name=${d.endpoint_name}]`;
    if (d.target_entity === null || d.target_entity === undefined) continue;
    if (!entity(d.target_entity, `${loc}.target_entity`)) continue;
    if (Array.isArray(d.upsert_key)) d.upsert_key.forEach((col, i) => columnOf(String(d.target_entity), col, `${loc}.upsert_key[${i}]`));
  }
}

export function printFindings(findings: Finding[]): void {
  if (!findings.length) { console.log('doctor: no findings'); return; }
  for (const f of findings) console.log(`${f.severity.toUpperCase().padEnd(7)} ${f.location}: ${f.message}${f.hint ? `\n        hint: ${f.hint}` : ''}`);
  const e = findings.filter((f) => f.severity === 'error').length;
  console.log(`doctor: ${e} error(s), ${findings.length - e} warning(s)`);
}
