// Roles, permissions and row/field rules as the definition states them (meta.roles,
// meta.permissions, meta.role_permissions, meta.policies), with inheritance resolved, and the
// model as one role sees it: only the entities, columns and verbs its rules grant.
import crypto from 'node:crypto';
import type { DbClient, DbPool } from '../db/types.ts';
import type { Entity, Model } from '../model/types.ts';

export type Verb = 'select' | 'insert' | 'update' | 'delete';
export const VERBS: Verb[] = ['select', 'insert', 'update', 'delete'];

export interface Rule {
  name: string;
  role: string;
  entity: string;
  verb: Verb | 'all';
  rowFilter: string | null;
  checkFilter: string | null;
  columns: string[] | null;
  ownerColumn: string | null;
  description: string;
}

export interface RoleInfo {
  id: string;
  name: string;
  description: string;
  parent: string | null;
  /** this role and every role it inherits from, nearest first */
  lineage: string[];
  permissions: Set<string>;
}

export interface EntityGrant {
  verbs: Set<Verb>;
  /** per verb: granted columns, null = all */
  columns: Map<Verb, Set<string> | null>;
  ownerColumns: Set<string>;
  rules: Rule[];
}

export interface AccessRules {
  roles: Map<string, RoleInfo>;
  rules: Rule[];
  defaultRole: string;
  anonymousRole: string;
  /** changes whenever anything installed in the database would change */
  hash: string;
}

async function exists(c: DbPool | DbClient, table: string): Promise<boolean> {
  return (await c.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0].ok;
}

/** `tables`: the served tables and views (a new one must get row-level security too). */
export async function loadRules(c: DbPool | DbClient, config: Map<string, unknown>, tables: string[] = []): Promise<AccessRules> {
  const roles = new Map<string, RoleInfo>();
  const rules: Rule[] = [];
  if (await exists(c, 'meta.roles')) {
    const r = await c.query(`SELECT r.role_id::text AS id, r.role_name, r.description, p.role_name AS parent,
        coalesce((SELECT array_agg(pm.permission_name ORDER BY pm.permission_name) FROM meta.role_permissions rp
          JOIN meta.permissions pm ON pm.permission_id = rp.permission_id WHERE rp.role_id = r.role_id), '{}') AS perms
      FROM meta.roles r LEFT JOIN meta.roles p ON p.role_id = r.parent_role_id ORDER BY r.role_name`);
    const raw = new Map(r.rows.map((x) => [x.role_name as string, x]));
    const lineage = (name: string): string[] => {
      const out: string[] = [];
      for (let n: string | null = name; n && !out.includes(n); n = raw.get(n)?.parent ?? null) out.push(n);
      return out;
    };
    for (const [name, x] of raw) {
      const line = lineage(name);
      roles.set(name, {
        id: x.id, name, description: x.description ?? '', parent: x.parent, lineage: line,
        permissions: new Set(line.flatMap((n) => raw.get(n)?.perms ?? [])),
      });
    }
    const p = await c.query(`SELECT p.policy_name, r.role_name, p.entity_name, p.verb, p.row_filter, p.check_filter, p.columns, p.owner_column, p.description
      FROM meta.policies p JOIN meta.roles r ON r.role_id = p.role_id WHERE p.is_enabled ORDER BY p.policy_name`);
    for (const x of p.rows) {
      rules.push({ name: x.policy_name, role: x.role_name, entity: x.entity_name, verb: x.verb, rowFilter: x.row_filter, checkFilter: x.check_filter, columns: x.columns, ownerColumn: x.owner_column, description: x.description });
    }
  }
  const cfg = (k: string, d: string) => (typeof config.get(k) === 'string' ? String(config.get(k)) : d);
  const defaultRole = cfg('auth.default_role', 'trader');
  const anonymousRole = cfg('auth.anonymous_role', 'anonymous');
  const hash = crypto.createHash('sha256').update(JSON.stringify({
    roles: [...roles.values()].map((r) => [r.name, r.parent]), rules, tables,
  })).digest('hex');
  return { roles, rules, defaultRole, anonymousRole, hash };
}

/** What a role may do on each entity, its inherited rules included. */
export function grantsFor(rules: AccessRules, role: string): Map<string, EntityGrant> {
  const lineage = rules.roles.get(role)?.lineage ?? [];
  const out = new Map<string, EntityGrant>();
  for (const rule of rules.rules) {
    if (!lineage.includes(rule.role)) continue;
    let g = out.get(rule.entity);
    if (!g) { g = { verbs: new Set(), columns: new Map(), ownerColumns: new Set(), rules: [] }; out.set(rule.entity, g); }
    g.rules.push(rule);
    for (const v of rule.verb === 'all' ? VERBS : [rule.verb]) {
      g.verbs.add(v);
      const prev = g.columns.get(v);
      if (prev === null || rule.columns === null) g.columns.set(v, null);
      else g.columns.set(v, new Set([...(prev ?? []), ...rule.columns]));
    }
    if (rule.ownerColumn) g.ownerColumns.add(rule.ownerColumn);
  }
  return out;
}

export interface RoleView { role: string; model: Model; grants: Map<string, EntityGrant>; full: Model }

/** The model as a role sees it: entities it may read, with only the columns it may read. */
export function modelForRole(full: Model, rules: AccessRules, role: string): RoleView {
  const grants = grantsFor(rules, role);
  const entities = new Map<string, Entity>();
  for (const [name, e] of full.entities) {
    const g = grants.get(name);
    if (!g || !e.exposed) { entities.set(name, { ...e, exposed: false }); continue; }
    const readable = g.columns.get('select');
    const columns = g.verbs.has('select') ? e.columns.filter((c) => !c.secret && (readable === null || readable?.has(c.name))) : [];
    const hiddenColumns = new Set(e.columns.filter((c) => !columns.includes(c)).map((c) => c.name));
    entities.set(name, { ...e, columns, columnsByName: new Map(columns.map((c) => [c.name, c])), exposed: true, hiddenColumns });
  }
  return { role, grants, full, model: { ...full, entities } };
}
