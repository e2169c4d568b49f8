// The audit chain on a real database: in-memory PGlite by default, a fresh PostgreSQL database
// when DATABASE_URL is set. Tampering is done the only way left to anyone: as the table owner,
// with the append-only trigger disabled.
import { describe, it, expect, afterAll } from 'vitest';
import crypto from 'node:crypto';
import pg from 'pg';
import { connect, type Db } from '../db/connect.ts';
import { engineMigrationsDir, migrate } from '../db/migrate.ts';
import {
  appendAudit, appendAuditInOwnTransaction, auditRowHash, canonicalAuditRow, redactSecrets,
  verifyAuditChain, type AuditEntry, type CanonicalAuditRow,
} from './chain.ts';

// Only the db layer is imported (not test/helpers/engine.ts, which pulls in the whole HTTP
// server): these tests need the engine's migrations and nothing else.
const ON_POSTGRES = !!process.env.DATABASE_URL;
const opened: (() => Promise<void>)[] = [];
afterAll(async () => { for (const close of opened) await close(); });

async function fresh(): Promise<Db> {
  let db: Db;
  if (ON_POSTGRES) {
    const name = `carry_t_${crypto.randomBytes(6).toString('hex')}`;
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name}`;
    db = await connect({ databaseUrl: url.toString(), poolSize: 25 });
    opened.push(async () => { await db.close(); await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); });
  } else {
    db = await connect({ dataDir: 'memory://' });
    opened.push(() => db.close());
  }
  await migrate(db, [{ scope: 'meta', dir: engineMigrationsDir() }]);
  return db;
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

const append = (db: Db, e: AuditEntry) => db.tx((c) => appendAudit(c, e));

async function appendMany(db: Db, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await append(db, { action: 'update', entity: 'strategies', recordKey: String(i), details: { i } })).log_id);
  }
  return ids;
}

/** Runs SQL as the owner with the append-only triggers off: what an attacker with ownership does. */
async function tamper(db: Db, sql: string, values: unknown[] = []): Promise<void> {
  await db.tx(async (c) => {
    await c.query('ALTER TABLE meta.action_logs DISABLE TRIGGER USER');
    await c.query(sql, values);
    await c.query('ALTER TABLE meta.action_logs ENABLE TRIGGER USER');
  });
}

const row = (over: Partial<CanonicalAuditRow> = {}): CanonicalAuditRow => ({
  log_id: '1', timestamp: '2025-01-02T03:04:05.123456Z', user_id: null, role_name: 'trader',
  permission_name: null, action: 'sign_in', entity: null, record_key: null, details_json: '{}',
  request_id: null, ip: null, user_agent: null, prev_hash: null, ...over,
});

describe('canonical serialisation', () => {
  it('is a fixed field list with length-prefixed UTF-8 values and - for null', () => {
    expect(canonicalAuditRow(row({ record_key: 'é\n-', entity: '' }))).toBe(
      'carry.action_logs.v1\nlog_id 1:1\ntimestamp 27:2025-01-02T03:04:05.123456Z\nuser_id -\n' +
      'role_name 6:trader\npermission_name -\naction 7:sign_in\nentity 0:\nrecord_key 4:é\n-\n' +
      'details_json 2:{}\nrequest_id -\nip -\nuser_agent -\nprev_hash -\n');
  });

  it('hashes to lowercase hex SHA-256 and tells null from empty and field from field', () => {
    expect(auditRowHash(row())).toMatch(/^[0-9a-f]{64}$/);
    expect(auditRowHash(row({ entity: '' }))).not.toBe(auditRowHash(row()));
    expect(auditRowHash(row({ entity: 'x' }))).not.toBe(auditRowHash(row({ record_key: 'x' })));
    expect(auditRowHash(row({ prev_hash: 'a'.repeat(64) }))).not.toBe(auditRowHash(row()));
  });
});

describe('redactSecrets', () => {
  it('hides values of secret-looking keys at any depth, keeps the rest', () => {
    const out = redactSecrets({
      username: 'ann', password: 'hunter2', nested: { privateKey: '0xabc', api_key: 'k', list: [{ token: 't' }] },
      encrypted_mfa: 'zz', mfa_secret_encrypted: 'yy', signature: '0xsig', mnemonic: 'a b c',
      tokens_used: 3, is_encrypted: true, has_password: false, password_hint: null,
    });
    expect(out).toEqual({
      username: 'ann', password: '[redacted]', nested: { privateKey: '[redacted]', api_key: '[redacted]', list: [{ token: '[redacted]' }] },
      encrypted_mfa: '[redacted]', mfa_secret_encrypted: '[redacted]', signature: '[redacted]', mnemonic: '[redacted]',
      tokens_used: 3, is_encrypted: true, has_password: false, password_hint: null,
    });
  });

  it('hides old and new of a change whose field is secret, and extra keys given', () => {
    const out = redactSecrets({ changes: [
      { field: 'hashed_password', old: 'h1', new: 'h2' },
      { field: 'is_active', old: false, new: true },
      { field: 'wallet_note', old: 'a', new: 'b' },
    ] }, ['wallet_note']);
    expect(out).toEqual({ changes: [
      { field: 'hashed_password', old: '[redacted]', new: '[redacted]' },
      { field: 'is_active', old: false, new: true },
      { field: 'wallet_note', old: '[redacted]', new: '[redacted]' },
    ] });
  });

  it('returns plain JSON: bigint and non-finite as strings, Date as ISO, NUL replaced, cycles cut', () => {
    const cyc: Record<string, unknown> = { n: 10n, inf: Infinity, d: new Date(0), s: 'a\0b', f: () => 1 };
    cyc.self = cyc;
    expect(redactSecrets(cyc)).toEqual({ n: '10', inf: 'Infinity', d: '1970-01-01T00:00:00.000Z', s: 'a\uFFFDb', self: '[circular]' });
  });
});

describe(`audit chain on ${ON_POSTGRES ? 'PostgreSQL' : 'PGlite'}`, () => {
  it('appends 50 varied rows and verifies them across batch boundaries', async () => {
    const db = await fresh();
    const user = (await db.pool.query(`INSERT INTO meta.users (username) VALUES ('ann') RETURNING user_id::text AS id`)).rows[0].id;
    const last = { log_id: '', row_hash: '' };
    for (let i = 0; i < 50; i++) {
      Object.assign(last, await append(db, {
        userId: i % 2 ? user : null, roleName: i % 3 ? 'trader' : null, permission: 'strategy:edit', action: 'update',
        entity: 'strategies', recordKey: i % 5 ? String(i) : `name=Carry ${i}\nline two`,
        details: { changes: [{ field: 'notional', old: '12345678901234567890.123', new: 1.5e-7 }], big: 12345678901234567890n, text: 'ünï "q" \0' },
        requestId: `req-${i}`, ip: ['10.0.0.1', '2001:DB8::1', '::ffff:192.0.2.1', null][i % 4], userAgent: 'Mozilla/5.0 ✓',
      }));
    }
    const r = await verifyAuditChain(db.pool, { batchSize: 7 });
    expect(r).toEqual({ ok: true, rows: 50, head: last });
    const stored = (await db.pool.query(`SELECT count(DISTINCT prev_hash)::int AS links, count(*) FILTER (WHERE prev_hash IS NULL)::int AS starts,
      bool_and("timestamp" <= clock_timestamp()) AS past FROM meta.action_logs`)).rows[0];
    expect(stored).toEqual({ links: 49, starts: 1, past: true });
    expect((await db.pool.query(`SELECT ip::text FROM meta.action_logs WHERE ip IS NOT NULL ORDER BY log_id LIMIT 3`)).rows.map((x) => x.ip))
      .toEqual(['10.0.0.1/32', '2001:db8::1/128', '::ffff:192.0.2.1/128']); // ip::text keeps the mask
  });

  it('an empty table verifies ok with no rows', async () => {
    const db = await fresh();
    expect(await verifyAuditChain(db.pool)).toEqual({ ok: true, rows: 0, head: undefined });
  });

  it('refuses UPDATE, DELETE (even in maintenance mode) and TRUNCATE', async () => {
    const db = await fresh();
    await appendMany(db, 3);
    const refused = { code: '42501', message: expect.stringMatching(/meta\.action_logs is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed/) };
    await expect(db.pool.query(`UPDATE meta.action_logs SET details_json = '{"i":9}' WHERE log_id = 2`)).rejects.toMatchObject(refused);
    await expect(db.pool.query(`DELETE FROM meta.action_logs WHERE log_id = 2`)).rejects.toMatchObject(refused);
    await expect(db.tx(async (c) => {
      await c.query(`SET LOCAL carry.maintenance = on`);
      await c.query(`DELETE FROM meta.action_logs`);
    })).rejects.toMatchObject(refused);
    await expect(db.pool.query(`TRUNCATE meta.action_logs`)).rejects.toMatchObject(refused);
    expect((await verifyAuditChain(db.pool)).rows).toBe(3);
  });

  it('stores redacted details, the user agent, and keeps an unparsable ip in details', async () => {
    const db = await fresh();
    await append(db, {
      action: 'sign_in_failed', details: { address: '0xabc', signature: '0xdeadbeef', message: 'siwe' },
      ip: 'not-an-ip, 1.2.3.4', userAgent: 'x'.repeat(600),
    });
    await append(db, { action: 'refused', details: ['a', 1] });
    const rows = (await db.pool.query(`SELECT details_json, ip, length(user_agent) AS ua FROM meta.action_logs ORDER BY log_id`)).rows;
    expect(rows[0]).toEqual({ details_json: { address: '0xabc', signature: '[redacted]', message: 'siwe', ip_unparsed: 'not-an-ip, 1.2.3.4' }, ip: null, ua: 512 });
    expect(rows[1].details_json).toEqual({ value: ['a', 1] });
    expect(JSON.stringify(rows)).not.toContain('deadbeef');
    expect((await verifyAuditChain(db.pool)).ok).toBe(true);
  });

  it('rejects an action name the table would refuse, before writing anything', async () => {
    const db = await fresh();
    await expect(append(db, { action: 'Sign In' })).rejects.toThrow(/snake_case/);
  });

  it('a rolled-back append leaves a gap in log_id, which is not an error', async () => {
    const db = await fresh();
    await appendMany(db, 2);
    await expect(db.tx(async (c) => { await appendAudit(c, { action: 'update' }); throw new Error('change failed'); })).rejects.toThrow('change failed');
    const after = await appendAuditInOwnTransaction(db.pool, { action: 'refused', details: { reason: 'change failed' } });
    expect(after.log_id).toBe('4');
    expect(await verifyAuditChain(db.pool)).toMatchObject({ ok: true, rows: 3 });
  });

  it('an edited row is a hash_mismatch at exactly that row', async () => {
    const db = await fresh();
    const ids = await appendMany(db, 20);
    await tamper(db, `UPDATE meta.action_logs SET details_json = '{"i": 999}' WHERE log_id = $1`, [ids[12]]);
    expect(await verifyAuditChain(db.pool, { batchSize: 5 })).toMatchObject({ ok: false, rows: 13, firstBad: { log_id: ids[12], reason: 'hash_mismatch' } });
  });

  it('an edited timestamp, by one microsecond, is a hash_mismatch too', async () => {
    const db = await fresh();
    const ids = await appendMany(db, 5);
    await tamper(db, `UPDATE meta.action_logs SET "timestamp" = "timestamp" + interval '1 microsecond' WHERE log_id = $1`, [ids[3]]);
    expect((await verifyAuditChain(db.pool)).firstBad).toEqual({ log_id: ids[3], reason: 'hash_mismatch' });
  });

  it('a deleted middle row is a missing_row at the row after it', async () => {
    const db = await fresh();
    const ids = await appendMany(db, 10);
    await tamper(db, `DELETE FROM meta.action_logs WHERE log_id = $1`, [ids[4]]);
    expect(await verifyAuditChain(db.pool, { batchSize: 3 })).toMatchObject({ ok: false, firstBad: { log_id: ids[5], reason: 'missing_row' } });
  });

  it('a deleted first row is a missing_row at the new first row', async () => {
    const db = await fresh();
    const ids = await appendMany(db, 3);
    await tamper(db, `DELETE FROM meta.action_logs WHERE log_id = $1`, [ids[0]]);
    expect((await verifyAuditChain(db.pool)).firstBad).toEqual({ log_id: ids[1], reason: 'missing_row' });
  });

  it('a row rewritten with a recomputed hash passes itself but breaks the next link', async () => {
    const db = await fresh();
    const ids = await appendMany(db, 4);
    const r = (await db.pool.query(`SELECT log_id::text AS log_id, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS timestamp,
      user_id::text AS user_id, role_name, permission_name, action, entity, record_key, details_json::text AS details_json, request_id, ip::text AS ip,
      user_agent, prev_hash FROM meta.action_logs WHERE log_id = $1`, [ids[1]])).rows[0] as CanonicalAuditRow;
    const forged = { ...r, details_json: '{"i": 42}' };
    await tamper(db, `UPDATE meta.action_logs SET details_json = $2::jsonb, row_hash = $3 WHERE log_id = $1`, [ids[1], forged.details_json, auditRowHash(forged)]);
    expect((await verifyAuditChain(db.pool)).firstBad).toEqual({ log_id: ids[2], reason: 'missing_row' });
  });

  it('rows out of order are a broken_link', async () => {
    const db = await fresh();
    const ids = await appendMany(db, 4);
    await tamper(db, `UPDATE meta.action_logs SET log_id = 100 WHERE log_id = $1`, [ids[1]]);
    expect((await verifyAuditChain(db.pool)).firstBad).toEqual({ log_id: ids[2], reason: 'broken_link' });
  });

  it('a second row naming the same predecessor is a fork (once the unique constraint is gone)', async () => {
    const db = await fresh();
    const ids = await appendMany(db, 3);
    await db.pool.query(`ALTER TABLE meta.action_logs DROP CONSTRAINT action_logs_chain_has_no_forks`);
    const first = (await db.pool.query(`SELECT row_hash FROM meta.action_logs WHERE log_id = $1`, [ids[0]])).rows[0].row_hash as string;
    const sibling = row({ log_id: '50', action: 'update', prev_hash: first });
    await db.pool.query(`INSERT INTO meta.action_logs (log_id, "timestamp", role_name, action, prev_hash, row_hash) VALUES (50, $1, 'trader', 'update', $2, $3)`,
      [sibling.timestamp, first, auditRowHash(sibling)]);
    expect((await verifyAuditChain(db.pool)).firstBad).toEqual({ log_id: '50', reason: 'fork' });
  });

  it.runIf(ON_POSTGRES)('20 concurrent transactions make one unbroken chain', async () => {
    const db = await fresh();
    await appendMany(db, 1);
    const gate = new Promise((r) => setTimeout(r, 50));
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.tx(async (c) => {
      await c.query('SELECT 1'); // each transaction has begun and holds its own connection
      await gate;
      await appendAudit(c, { action: 'insert', entity: 'trades', recordKey: String(i) });
      await c.query('SELECT pg_sleep(0.005)'); // hold the lock a moment, as a real change would
    })));
    expect(await verifyAuditChain(db.pool, { batchSize: 6 })).toMatchObject({ ok: true, rows: 21 });
    const links = (await db.pool.query(`SELECT count(DISTINCT prev_hash)::int AS n FROM meta.action_logs WHERE log_id > 1`)).rows[0].n;
    expect(links).toBe(20);
  });

  it.runIf(ON_POSTGRES)('a REPEATABLE READ transaction whose snapshot predates the head fails instead of forking', async () => {
    const db = await fresh();
    await appendMany(db, 1);
    const stale = await db.pool.connect();
    try {
      await stale.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await stale.query('SELECT 1'); // the snapshot is fixed here
      await append(db, { action: 'update' });
      await expect(appendAudit(stale, { action: 'update' })).rejects.toMatchObject({ code: '40001' });
    } finally {
      await stale.query('ROLLBACK');
      stale.release();
    }
    expect(await verifyAuditChain(db.pool)).toMatchObject({ ok: true, rows: 2 });
  });

  it('a role granted every privilege still cannot change or remove audit rows', async () => {
    const db = await fresh();
    await appendMany(db, 2);
    const role = `audit_probe_${process.pid}_${Date.now()}`;
    await db.pool.query(`CREATE ROLE ${role}; GRANT USAGE ON SCHEMA meta TO ${role}; GRANT ALL ON meta.action_logs TO ${role}`);
    try {
      for (const sql of [`UPDATE meta.action_logs SET role_name = 'x'`, `DELETE FROM meta.action_logs`, `TRUNCATE meta.action_logs`]) {
        await expect(db.tx(async (c) => {
          await c.query(`SET LOCAL ROLE ${role}`);
          await c.query(`SET LOCAL carry.maintenance = on`);
          await c.query(sql);
        })).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('append-only') });
      }
      await expect(db.tx(async (c) => {
        await c.query(`SET LOCAL ROLE ${role}`);
        await c.query(`ALTER TABLE meta.action_logs DISABLE TRIGGER USER`);
      })).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('must be owner') });
    } finally {
      await db.pool.query(`REVOKE ALL ON meta.action_logs FROM ${role}; REVOKE USAGE ON SCHEMA meta FROM ${role}; DROP ROLE ${role}`);
    }
    expect(await verifyAuditChain(db.pool)).toMatchObject({ ok: true, rows: 2 });
  });
});
