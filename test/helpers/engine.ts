// Test harness: a real engine on a real database — in-memory PGlite by default, or a fresh
// database on the PostgreSQL server named by DATABASE_URL — served over real HTTP on loopback.
import pg from 'pg';
import type { QueryResultLite } from '../../engine/db/types.ts';
import crypto from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { startEngine, ROOT, type Engine, type EngineOptions } from '../../engine/engine.ts';
import { buildServer } from '../../engine/api/server.ts';
import { Logs } from '../../engine/ops/log.ts';

export const ON_POSTGRES = !!process.env.DATABASE_URL;

/** A fresh, empty database URL on the PostgreSQL server, and a function that drops it. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `carry_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface TestServer {
  engine: Engine;
  app: FastifyInstance;
  url: string;
  /** fetch a path on the server */
  http(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** run SQL directly as the database owner */
  sql(text: string, values?: unknown[]): Promise<QueryResultLite>;
  close(): Promise<void>;
}

export async function startTestServer(opts: Partial<EngineOptions> = {}): Promise<TestServer> {
  let drop: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  if (ON_POSTGRES) {
    const fresh = await freshPostgres();
    databaseUrl = fresh.url;
    drop = fresh.drop;
  }
  const engine = await startEngine({
    databaseUrl, dataDir: databaseUrl ? undefined : 'memory://',
    appDir: path.join(ROOT, 'app'), logs: new Logs({ level: process.env.TEST_LOG_LEVEL ?? 'silent', force: true }), ...opts,
  });
  const app = await buildServer(engine);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    engine, app, url,
    http(pathname, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
      return fetch(url + pathname, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
    sql: (text, values) => engine.db.pool.query(text, values),
    async close() {
      await app.close();
      await engine.close();
      if (drop) await drop();
    },
  };
}

/** Wait until fn returns truthy, polling; returns elapsed ms. Throws after timeoutMs. */
export async function waitFor(fn: () => Promise<unknown> | unknown, timeoutMs = 5000, stepMs = 25): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await fn()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
