// One code path to the database: a pool, either pg.Pool to a PostgreSQL server (DATABASE_URL)
// or PglitePool over embedded PGlite.
import pg from 'pg';
import path from 'node:path';
import fs from 'node:fs';
import { acquireDirLock, type DirLock } from './lock.ts';
import { PglitePool } from './pglite-pool.ts';
import type { DbClient, DbPool } from './types.ts';
import { inTransaction } from './tx.ts';

// Keep numeric, bigint and timestamps exact: never let the driver turn money into floats.
pg.types.setTypeParser(1700, (v) => v); // numeric
pg.types.setTypeParser(20, (v) => v); // int8

export interface Db {
  kind: 'pglite' | 'postgres';
  pool: DbPool;
  /** Subscribe to NOTIFY on a channel. Returns an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Run fn inside a transaction on one client; never touch the pool inside it. */
  tx<T>(fn: (client: DbClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  describe(): string;
}

export interface ConnectOptions {
  databaseUrl?: string;
  /** Folder for embedded data; 'memory://' for a throwaway in-memory database. */
  dataDir?: string;
  poolSize?: number;
  /** A PGlite data dump (tar) to start from, used by tests to skip initdb. */
  loadDataDir?: Blob;
}

export async function connect(opts: ConnectOptions = {}): Promise<Db> {
  if (opts.databaseUrl) return connectPostgres(opts.databaseUrl, opts.poolSize ?? 10);
  return connectPglite(opts.dataDir ?? './data', opts.loadDataDir);
}

async function connectPostgres(url: string, size: number): Promise<Db> {
  // standard_conforming_strings pinned on: statements that carry quoted literals rely on it.
  const pool = new pg.Pool({ connectionString: url, max: size, options: '-c timezone=UTC -c standard_conforming_strings=on' });
  pool.on('error', () => { /* idle client errors surface on next use */ });
  await pool.query('SELECT 1');
  const listeners: pg.Client[] = [];
  return {
    kind: 'postgres',
    pool: pool as unknown as DbPool,
    async listen(channel, onPayload) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      client.on('notification', (n) => { if (n.channel === channel) onPayload(n.payload ?? ''); });
      client.on('error', () => {});
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      listeners.push(client);
      return async () => {
        listeners.splice(listeners.indexOf(client), 1);
        await client.end().catch(() => {});
      };
    },
    tx: (fn) => inTransaction(pool as unknown as DbPool, fn),
    async close() {
      await Promise.all(listeners.map((c) => c.end().catch(() => {})));
      await pool.end();
    },
    describe: () => redactUrl(url),
  };
}

async function connectPglite(dataDir: string, loadDataDir?: Blob): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  let lock: DirLock | undefined;
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) {
    fs.mkdirSync(dataDir, { recursive: true });
    lock = acquireDirLock(path.join(dataDir, '..', `.${path.basename(path.resolve(dataDir))}.lock`));
  }
  let lite;
  try {
    // numeric and int8 stay text, as with pg: money is never a float
    const parsers = { 1700: (v: string) => v, 20: (v: string) => v };
    lite = await PGlite.create(inMemory ? undefined : path.resolve(dataDir), { parsers, ...(loadDataDir ? { loadDataDir } : {}) });
    await lite.exec(`SET timezone = 'UTC'`);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const pool = new PglitePool(lite);
  return {
    kind: 'pglite',
    pool,
    async listen(channel, onPayload) {
      const unsub = await lite.listen(channel, (payload: string) => onPayload(payload));
      return async () => { await unsub(); };
    },
    tx: (fn) => inTransaction(pool, fn),
    async close() {
      await pool.end();
      await lite.close();
      lock?.release();
    },
    describe: () => (inMemory ? 'pglite (in memory)' : `pglite ${path.resolve(dataDir)}`),
  };
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparseable url)';
  }
}
