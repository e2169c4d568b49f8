// Secret columns written through the API are sealed before SQL sees them, bound to their row
// (schema.table:column:primary key). An insert whose key the database would generate reserves
// it first, so the key is known when sealing; an update of a secret names one row by its key.
import path from 'node:path';
import { apiError } from '../api/errors.ts';
import type { ReadQuery } from '../api/parse/ast.ts';
import type { Db } from '../db/connect.ts';
import type { Entity } from '../model/types.ts';
import { aadFor, type SecretColumn } from './columns.ts';
import { open, seal } from './envelope.ts';
import { loadMasterKey, type MasterKey } from './master-key.ts';

export class MasterKeys {
  private key: MasterKey | null = null;
  constructor(private db: Db, private dataDir: string | null) {}

  /** The key file: CARRY_MASTER_KEY_FILE, or beside the embedded data folder. */
  keyFile(): string | undefined {
    if (process.env.CARRY_MASTER_KEY_FILE) return process.env.CARRY_MASTER_KEY_FILE;
    return this.dataDir ? path.join(path.dirname(path.resolve(this.dataDir)), `.${path.basename(path.resolve(this.dataDir))}.master.key`) : undefined;
  }

  get(): MasterKey {
    if (this.key) return this.key;
    try {
      // Created (0600) on first use only for the embedded database; a server needs it configured.
      this.key = loadMasterKey({ keyFile: this.keyFile(), create: this.db.kind === 'pglite' });
    } catch (e) {
      throw apiError('C601', `No usable master key to seal secrets: ${(e as Error).message}`, {}, 'Set CARRY_MASTER_KEY (32 bytes, base64 or hex) or CARRY_MASTER_KEY_FILE.');
    }
    return this.key;
  }
}

/** Returns the body with secret values sealed (and generated keys reserved where needed). */
export async function sealSecrets(db: Db, keys: MasterKeys, full: Entity, verb: 'insert' | 'update', body: unknown, q: ReadQuery): Promise<unknown> {
  const secret = full.columns.filter((c) => c.secret).map((c) => c.name);
  if (!secret.length || body === null || typeof body !== 'object') return body;
  const rows = (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
  if (!rows.some((r) => r && typeof r === 'object' && secret.some((c) => r[c] !== undefined && r[c] !== null))) return body;
  if (full.primaryKey.length !== 1) throw apiError('C303', `Secret columns of "${full.name}" need a single-column primary key to bind them to their row`, { entity: full.name });
  const pk = full.primaryKey[0];
  const master = keys.get();
  let updateKey: string | null = null;
  if (verb === 'update') {
    const conds = q.scopes.get('')?.conditions ?? [];
    const f = conds.length === 1 && conds[0].kind === 'filter' && conds[0].field.name === pk && conds[0].op === 'eq' && !conds[0].negate ? conds[0] : null;
    if (!f) throw apiError('C303', `Secret columns (${secret.join(', ')}) of "${full.name}" are changed one row at a time: filter by ${pk}=eq.<key> only`, { entity: full.name, columns: secret });
    updateKey = String(f.value);
  }
  const out = [];
  for (const row of rows) {
    if (!row || typeof row !== 'object') { out.push(row); continue; }
    const copy = { ...row };
    if (verb === 'insert' && (copy[pk] === undefined || copy[pk] === null)) {
      const seq = await db.pool.query(`SELECT nextval(pg_get_serial_sequence($1, $2))::text AS id`, [`${full.schema}.${full.table}`, pk]);
      if (!seq.rows[0]?.id) throw apiError('C303', `"${full.name}" must be given its ${pk} to store a secret`, { entity: full.name, column: pk });
      copy[pk] = seq.rows[0].id;
    }
    const key = verb === 'update' ? updateKey! : String(copy[pk]);
    for (const c of secret) {
      const v = copy[c];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string' || !v.length) throw apiError('C300', `Secret column "${c}" takes a non-empty string`, { entity: full.name, column: c });
      copy[c] = seal(v, aadFor({ schema: full.schema, table: full.table, column: c, key: [pk] }, { [pk]: key }), master);
    }
    out.push(copy);
  }
  return Array.isArray(body) ? out : out[0];
}

/**
 * Configuration rows flagged is_encrypted (meta.system_configuration, the engine's own table)
 * hold their value sealed, as a JSON string, bound to the row's key. The value given is the
 * JSON value itself; the engine opens it with `openConfig`.
 */
export const CONFIG_TARGET: SecretColumn = { schema: 'meta', table: 'system_configuration', column: 'config_value', key: ['config_key'], json: true };

export async function sealConfigRows(db: Db, keys: MasterKeys, full: Entity, verb: 'insert' | 'update', body: unknown, q: ReadQuery): Promise<unknown> {
  if (full.schema !== CONFIG_TARGET.schema || full.table !== CONFIG_TARGET.table || !body || typeof body !== 'object') return body;
  const rows = (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
  let updateKey: string | null = null;
  let encryptedNow = false;
  if (verb === 'update' && 'config_value' in rows[0]) {
    const conds = q.scopes.get('')?.conditions ?? [];
    const f = conds.length === 1 && conds[0].kind === 'filter' && conds[0].field.name === 'config_key' && conds[0].op === 'eq' ? conds[0] : null;
    const flagged = f ? (await db.pool.query('SELECT is_encrypted FROM meta.system_configuration WHERE config_key = $1', [String(f.value)])).rows[0]?.is_encrypted : null;
    if (!f) {
      const any = (await db.pool.query('SELECT count(*)::int AS n FROM meta.system_configuration WHERE is_encrypted')).rows[0].n;
      if (any) throw apiError('C303', 'Configuration values are changed one key at a time (config_key=eq.<key>) while encrypted settings exist', { entity: full.name });
      return body;
    }
    updateKey = String(f.value);
    encryptedNow = rows[0].is_encrypted === true || (rows[0].is_encrypted === undefined && flagged === true);
  }
  const out = rows.map((row) => {
    const encrypted = verb === 'insert' ? row.is_encrypted === true : encryptedNow;
    if (!encrypted || row.config_value === undefined) return row;
    const key = verb === 'insert' ? String(row.config_key) : updateKey!;
    const sealed = seal(JSON.stringify(row.config_value), aadFor(CONFIG_TARGET, { config_key: key }), keys.get());
    return { ...row, config_value: sealed };
  });
  return Array.isArray(body) ? out : out[0];
}

/** The plain value of an encrypted configuration row, for the engine's own use. */
export function openConfig(keys: MasterKeys, configKey: string, stored: unknown): unknown {
  if (typeof stored !== 'string') return stored;
  return JSON.parse(open(stored, aadFor(CONFIG_TARGET, { config_key: configKey }), keys.get()).toString());
}
