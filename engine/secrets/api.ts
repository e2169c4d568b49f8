// Secret columns written through the API are sealed before SQL sees them, bound to their row
// (schema.table:column:primary key). An insert whose key the database would generate reserves
// it first, so the key is known when sealing; an update of a secret names one row by its key.
import path from 'node:path';
import { apiError } from '../api/errors.ts';
import type { ReadQuery } from '../api/parse/ast.ts';
import type { Db } from '../db/connect.ts';
import type { Entity } from '../model/types.ts';
import { aadFor } from './columns.ts';
import { seal } from './envelope.ts';
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
