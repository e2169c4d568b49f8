// Storage: the embedded data folder is locked against a second process; migrations are
// versioned, idempotent and refuse edited history — on PGlite and on PostgreSQL.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect } from '../../engine/db/connect.ts';
import { DataDirLockedError } from '../../engine/db/lock.ts';
import { migrate, MigrationError } from '../../engine/db/migrate.ts';
import { freshPostgres, ON_POSTGRES } from '../helpers/engine.ts';

function tmp(prefix: string) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function openDb() {
  if (ON_POSTGRES) {
    const pg = await freshPostgres();
    const db = await connect({ databaseUrl: pg.url });
    return { db, close: async () => { await db.close(); await pg.drop(); } };
  }
  const db = await connect({ dataDir: 'memory://' });
  return { db, close: () => db.close() };
}

describe('embedded data folder', () => {
  it('refuses a second opener while the first holds it, and opens again after close', async () => {
    const dir = path.join(tmp('carry-lock-'), 'data');
    const first = await connect({ dataDir: dir });
    await expect(connect({ dataDir: dir })).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(connect({ dataDir: dir })).rejects.toThrow(/CARRY_DATA_DIR/);
    await first.pool.query('CREATE TABLE kept (v text)');
    await first.pool.query('INSERT INTO kept VALUES ($1)', ['survives']);
    await first.close();
    const second = await connect({ dataDir: dir });
    const r = await second.pool.query('SELECT v FROM kept');
    expect(r.rows).toEqual([{ v: 'survives' }]);
    await second.close();
  });

  it('takes over a lock left by a process that died', async () => {
    const dir = path.join(tmp('carry-stale-'), 'data');
    // a real process id that no longer exists
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(path.join(path.dirname(dir), '.data.lock'), dead);
    const db = await connect({ dataDir: dir });
    expect((await db.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await db.close();
  });
});

describe('migrations', () => {
  it('apply once in order, are idempotent, and refuse an edited applied migration', async () => {
    const dir = tmp('carry-mig-');
    fs.writeFileSync(path.join(dir, '0001_first.sql'), 'CREATE SCHEMA IF NOT EXISTS app; CREATE TABLE app.one (id int PRIMARY KEY);');
    fs.writeFileSync(path.join(dir, '0002_second.sql'), 'ALTER TABLE app.one ADD COLUMN label text;');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const { db, close } = await openDb();
    try {
      const first = await migrate(db, [{ scope: 'app', dir }]);
      expect(first.map((m) => m.name)).toEqual(['0001_first', '0002_second']);
      expect(await migrate(db, [{ scope: 'app', dir }])).toEqual([]);
      const cols = await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema='app' AND table_name='one' ORDER BY ordinal_position`);
      expect(cols.rows.map((r) => r.column_name)).toEqual(['id', 'label']);

      fs.writeFileSync(path.join(dir, '0002_second.sql'), 'ALTER TABLE app.one ADD COLUMN other text;');
      const err = await migrate(db, [{ scope: 'app', dir }]).catch((e) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect(err.message).toMatch(/0002_second\.sql was changed after it was applied/);

      fs.writeFileSync(path.join(dir, '0002_second.sql'), 'ALTER TABLE app.one ADD COLUMN label text;');
      fs.writeFileSync(path.join(dir, '0003_broken.sql'), 'ALTER TABLE app.missing ADD COLUMN x int;');
      const broken = await migrate(db, [{ scope: 'app', dir }]).catch((e) => e);
      expect(broken.message).toMatch(/0003_broken\.sql failed: .*app\.missing/);
      const applied = await db.pool.query(`SELECT version FROM meta.schema_migrations WHERE scope='app' ORDER BY version`);
      expect(applied.rows.map((r) => r.version)).toEqual([1, 2]);
    } finally {
      await close();
    }
  });
});

describe('the pool after errors and under concurrency', () => {
  it('keeps answering each query with its own rows after failed statements of every kind', async () => {
    const { db, close } = await openDb();
    try {
      await expect(db.pool.query('SELECT $1::int', ['abc'])).rejects.toMatchObject({ code: '22P02' });
      expect((await db.pool.query('SELECT $1::int AS x', [1])).rows).toEqual([{ x: 1 }]);
      expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await expect(db.pool.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      expect((await db.pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      await expect(db.tx(async (c) => { await c.query('SELECT $1::int', ['x']); })).rejects.toMatchObject({ code: '22P02' });
      expect((await db.pool.query('SELECT $1::text AS t', ['after tx'])).rows).toEqual([{ t: 'after tx' }]);
      // exact types: numeric and int8 come back as text, never floats
      expect((await db.pool.query(`SELECT 0.1::numeric + 0.2::numeric AS n, 9007199254740993::int8 AS b`)).rows).toEqual([{ n: '0.3', b: '9007199254740993' }]);
    } finally {
      await close();
    }
  });

  it('does not let other queries into an open transaction', async () => {
    const { db, close } = await openDb();
    try {
      await db.pool.query('CREATE TABLE iso (v int)');
      let inside!: () => void;
      const gate = new Promise<void>((r) => { inside = r; });
      const tx = db.tx(async (c) => {
        await c.query('INSERT INTO iso VALUES ($1)', [1]);
        inside();
        await new Promise((r) => setTimeout(r, 200));
        throw new Error('roll back');
      }).catch((e) => e.message);
      await gate;
      // runs after the transaction ends (PGlite) or in another session (PostgreSQL): never sees its row
      const seen = await db.pool.query('SELECT count(*)::int AS n FROM iso');
      expect(seen.rows[0].n).toBe(0);
      expect(await tx).toBe('roll back');
      expect((await db.pool.query('SELECT count(*)::int AS n FROM iso')).rows[0].n).toBe(0);
    } finally {
      await close();
    }
  });
});
