// Rotation on a real database: in-memory PGlite by default, a fresh PostgreSQL database when
// DATABASE_URL is set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Db } from '../db/connect.ts';
import pg from 'pg';
import crypto from 'node:crypto';
import { isSealed, keyIdOf, open, openText, seal } from './envelope.ts';
import { SecretError } from './errors.ts';
import { generateMasterKey } from './master-key.ts';
import { aadFor, rotateMasterKey, type SecretColumn } from './rotate.ts';

// Same as freshPostgres()/ON_POSTGRES in test/helpers/engine.ts, repeated here because that
// module loads the whole engine and HTTP server: these tests need only a database and should
// not fail when an unrelated part of the engine is mid-change.
const ON_POSTGRES = !!process.env.DATABASE_URL;
async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `carry_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const A = generateMasterKey();
const B = generateMasterKey();
// Awkward names on purpose: identifiers must be quoted, not pasted.
const WALLETS: SecretColumn = { schema: 'secret test', table: 'wallet "keys"', column: 'private key', key: ['id'] };
const CONFIG: SecretColumn = { schema: 'secret test', table: 'config', column: 'value', key: ['scope', 'name'], json: true };

let db: Db;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  if (ON_POSTGRES) {
    const fresh = await freshPostgres();
    drop = fresh.drop;
    db = await connect({ databaseUrl: fresh.url, poolSize: 2 });
  } else {
    db = await connect({ dataDir: 'memory://' });
  }
  await db.pool.query(`CREATE SCHEMA "secret test";
    CREATE TABLE "secret test"."wallet ""keys""" (id integer PRIMARY KEY, owner text NOT NULL, "private key" text);
    CREATE TABLE "secret test".config (scope text, name text, value jsonb, PRIMARY KEY (scope, name))`);
});

afterAll(async () => {
  await db?.close();
  await drop?.();
});

const secretOf = (id: number) => `0x${id.toString(16).padStart(64, '0')}`;

async function wallets(): Promise<{ id: number; v: string | null }[]> {
  const { rows } = await db.pool.query(`SELECT id, "private key" AS v FROM "secret test"."wallet ""keys""" ORDER BY id`);
  return rows;
}

async function keyIds(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await wallets()) if (r.v !== null) out[keyIdOf(r.v)] = (out[keyIdOf(r.v)] ?? 0) + 1;
  return out;
}

describe('rotateMasterKey', () => {
  it('can be interrupted after a batch and rerun until every value is on the new key', async () => {
    for (let id = 1; id <= 25; id++) {
      const v = seal(secretOf(id), aadFor(WALLETS, { id }), A);
      await db.pool.query(`INSERT INTO "secret test"."wallet ""keys""" (id, owner, "private key") VALUES ($1, $2, $3)`, [id, `u${id}`, v]);
    }
    await db.pool.query(`INSERT INTO "secret test"."wallet ""keys""" (id, owner) VALUES (0, 'none'), (99, 'none'), (1300, 'none')`);
    expect(aadFor(WALLETS, { id: 42 })).toBe('secret test.wallet "keys":private key:42');

    let calls = 0;
    const stop = () => { calls++; throw new Error('interrupted'); };
    await expect(rotateMasterKey(db, [WALLETS], A, B, { batchSize: 10, onProgress: stop })).rejects.toThrow('interrupted');
    expect(calls).toBe(1);
    expect(await keyIds()).toEqual({ [B.id]: 10, [A.id]: 15 });
    const rows = await wallets();
    // the first batch is the first ten keys, and every value still opens with both keys at hand
    expect(rows.filter((r) => r.v && keyIdOf(r.v) === B.id).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const r of rows) if (r.v) expect(openText(r.v, aadFor(WALLETS, r), [A, B])).toBe(secretOf(r.id));

    const progress: number[] = [];
    const second = await rotateMasterKey(db, [WALLETS], A, B, { batchSize: 10, onProgress: (p) => { progress.push(p.rewrapped); } });
    expect(second).toEqual({ rewrapped: 15, skipped: 10, foreign: 0 });
    expect(progress).toEqual([0, 10, 15]);
    expect(await keyIds()).toEqual({ [B.id]: 25 });
    for (const r of await wallets()) if (r.v) expect(openText(r.v, aadFor(WALLETS, r), B)).toBe(secretOf(r.id));
    expect((await wallets()).filter((r) => r.v === null).map((r) => r.id)).toEqual([0, 99, 1300]);

    const third = await rotateMasterKey(db, [WALLETS], A, B, { batchSize: 10 });
    expect(third).toEqual({ rewrapped: 0, skipped: 25, foreign: 0 });
  });

  it('walks composite keys and jsonb values, and leaves values it cannot rewrap alone', async () => {
    const C = generateMasterKey();
    const put = (scope: string, name: string, value: unknown) => db.pool.query(
      `INSERT INTO "secret test".config VALUES ($1, $2, $3::jsonb)`, [scope, name, JSON.stringify(value)]);
    const names = ['a', 'a,b', 'b', 'c\\d', 'e', 'f', 'g'];
    for (const scope of ['s1', 's2']) {
      for (const name of names) await put(scope, name, seal(`${scope}/${name}`, aadFor(CONFIG, { scope, name }), A));
    }
    await put('s0', 'plain', 'not secret');
    await put('s0', 'number', 5);
    await put('s3', 'other', seal('x', aadFor(CONFIG, { scope: 's3', name: 'other' }), C));
    expect(aadFor(CONFIG, { scope: 's1', name: 'a,b' })).toBe('secret test.config:value:s1,a\\,b');

    const result = await rotateMasterKey(db, [CONFIG, WALLETS], A, B, { batchSize: 3 });
    expect(result).toEqual({ rewrapped: 14, skipped: 25, foreign: 3 });
    const { rows } = await db.pool.query(`SELECT scope, name, value FROM "secret test".config ORDER BY scope, name`);
    for (const r of rows) {
      if (!isSealed(r.value)) continue;
      if (r.scope === 's3') { expect(keyIdOf(r.value)).toBe(C.id); continue; }
      expect(keyIdOf(r.value)).toBe(B.id);
      expect(openText(r.value, aadFor(CONFIG, r), B)).toBe(`${r.scope}/${r.name}`);
    }
    expect(rows.find((r) => r.name === 'plain').value).toBe('not secret');
    expect(rows.find((r) => r.name === 'number').value).toBe(5);
  });

  it('stops at a tampered value, naming its row, and keeps the batch unchanged', async () => {
    const T: SecretColumn = { ...WALLETS, table: 'tampered' };
    await db.pool.query(`CREATE TABLE "secret test".tampered (id integer PRIMARY KEY, "private key" text)`);
    for (let id = 1; id <= 3; id++) {
      const v = seal(secretOf(id), aadFor(T, { id }), A);
      // row 2 holds row 3's aad: a value copied from another row
      await db.pool.query(`INSERT INTO "secret test".tampered VALUES ($1, $2)`, [id, id === 2 ? seal('x', aadFor(T, { id: 3 }), A) : v]);
    }
    const err = await rotateMasterKey(db, [T], A, B).catch((e) => e);
    expect(err).toBeInstanceOf(SecretError);
    expect(err.code).toBe('tampered');
    expect(err.message).toContain('secret test.tampered.private key row (2)');
    const { rows } = await db.pool.query(`SELECT "private key" AS v FROM "secret test".tampered ORDER BY id`);
    expect(rows.every((r) => keyIdOf(r.v) === A.id)).toBe(true);
    expect(() => open(rows[0].v, aadFor(T, { id: 1 }), A)).not.toThrow();
  });

  it('refuses to rotate to the same key', async () => {
    await expect(rotateMasterKey(db, [WALLETS], A, A)).rejects.toThrow(/same/);
  });
});
