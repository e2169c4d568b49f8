// Versioned, idempotent migrations. Each folder is a scope (the engine's `meta`, the app's
// `app`); files are NNNN_name.sql, applied once each in order, in their own transaction,
// with a checksum so an edited applied migration is reported instead of silently skipped.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Db } from './connect.ts';

export interface MigrationScope { scope: string; dir: string }
export interface Applied { scope: string; version: number; name: string }

export class MigrationError extends Error {
  constructor(message: string, public file: string) { super(message); }
}

export function engineMigrationsDir(): string {
  return path.join(path.dirname(new URL(import.meta.url).pathname), 'migrations');
}

function listFiles(dir: string) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = fs.readFileSync(path.join(dir, f), 'utf8');
      return {
        version: Number(f.slice(0, 4)),
        name: f.replace(/\.sql$/, ''),
        file: path.join(dir, f),
        sql,
        checksum: crypto.createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export async function migrate(db: Db, scopes: MigrationScope[]): Promise<Applied[]> {
  const applied: Applied[] = [];
  const exists = (await db.pool.query(`SELECT to_regclass('meta.schema_migrations') IS NOT NULL AS ok`)).rows[0].ok;
  if (!exists) await db.pool.query(`CREATE SCHEMA IF NOT EXISTS meta;
    CREATE TABLE IF NOT EXISTS meta.schema_migrations (
      scope text NOT NULL, version integer NOT NULL, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (scope, version));
    COMMENT ON TABLE meta.schema_migrations IS 'Schema migrations applied to this database, per scope (meta = engine, app = the application).';`);
  const known = new Map<string, string>(
    (await db.pool.query('SELECT scope, version, checksum FROM meta.schema_migrations')).rows.map((r) => [`${r.scope}/${r.version}`, r.checksum]));
  for (const { scope, dir } of scopes) {
    for (const m of listFiles(dir)) {
      // Fast path: applied and unchanged. Anything else is decided under the lock below.
      if (known.get(`${scope}/${m.version}`) === m.checksum) continue;
      const done = await db.tx(async (c) => {
        // Serialises concurrent starts on one PostgreSQL server.
        await c.query('SELECT pg_advisory_xact_lock(7240001)');
        const prev = await c.query('SELECT checksum FROM meta.schema_migrations WHERE scope=$1 AND version=$2', [scope, m.version]);
        if (prev.rows.length) {
          if (prev.rows[0].checksum !== m.checksum) {
            throw new MigrationError(`Migration ${m.file} was changed after it was applied. Add a new migration instead of editing an applied one.`, m.file);
          }
          return false;
        }
        try {
          await c.query(m.sql);
        } catch (e) {
          const err = e as Error & { position?: string };
          throw new MigrationError(`Migration ${m.file} failed: ${err.message}${err.position ? ` (at character ${err.position})` : ''}`, m.file);
        }
        await c.query('INSERT INTO meta.schema_migrations (scope, version, name, checksum) VALUES ($1,$2,$3,$4)', [scope, m.version, m.name, m.checksum]);
        return true;
      });
      if (done) applied.push({ scope, version: m.version, name: m.name });
    }
  }
  return applied;
}
