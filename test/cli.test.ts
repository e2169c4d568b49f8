// The carry command, as a user runs it: start (embedded database, demo data, lock), export,
// import and doctor, each in a real child process.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../engine/engine.ts';
import { freshPostgres, ON_POSTGRES } from './helpers/engine.ts';

const CARRY = path.join(ROOT, 'bin/carry.mjs');
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const f of cleanups) await f();
});

/** Environment for a fresh database: a temp PGlite folder, or a fresh PostgreSQL database. */
async function freshEnv(): Promise<NodeJS.ProcessEnv> {
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'carry-cli-')), 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, CARRY_DATA_DIR: dataDir, LOG_LEVEL: 'info', PORT: '0', DATABASE_URL: '' };
  if (ON_POSTGRES) {
    const pg = await freshPostgres();
    cleanups.push(pg.drop);
    env.DATABASE_URL = pg.url;
  }
  return env;
}

function startCarry(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, [CARRY, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line within 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      for (const l of out.split('\n')) {
        if (!l.includes('Carry ready')) continue;
        clearTimeout(timer);
        const line = JSON.parse(l);
        resolve({ child, url: line.url, line });
      }
    });
    child.stderr!.on('data', (d) => { out += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`carry start exited with ${code}:\n${out}`)); });
  });
}

function run(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [CARRY, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('carry start', () => {
  it('serves demo data from a fresh database, refuses a second process on the same folder, and stops on SIGTERM', async () => {
    const env = await freshEnv();
    const { child, url, line } = await startCarry(env);
    expect(line.database).toMatch(ON_POSTGRES ? /^postgres/ : /^pglite /);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const rows = await (await fetch(`${url}/api/discovered_opportunities?select=base_asset,calculated_apr&limit=5`)).json();
    expect(rows.length).toBeGreaterThan(0);
    const doc = await (await fetch(`${url}/api/openapi.json`)).json();
    expect(doc.info.title).toMatch(/Carry/);

    if (!ON_POSTGRES) {
      const second = run(['start'], env);
      expect(second.code).not.toBe(0);
      expect(second.out).toMatch(/data folder is in use by process \d+/);
    }
    child.removeAllListeners('exit'); // the start-up listener treats any exit as a failure
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('carry export / import / doctor', () => {
  it('export after import is byte-identical to the shipped definition files', async () => {
    const env = await freshEnv();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'carry-export-'));
    expect(run(['import'], env).code).toBe(0);
    const r = run(['export', out], env);
    expect(r.code, r.out).toBe(0);
    const shipped = path.join(ROOT, 'app/definition');
    const files = fs.readdirSync(shipped).filter((f) => f.endsWith('.json')).sort();
    expect(fs.readdirSync(out).sort()).toEqual(files);
    for (const f of files) expect(fs.readFileSync(path.join(out, f), 'utf8'), f).toBe(fs.readFileSync(path.join(shipped, f), 'utf8'));
  });

  it('doctor passes the shipped definition and finds a broken row with its exact location', async () => {
    const env = await freshEnv();
    const ok = run(['doctor'], env);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/0 error\(s\)|no findings/);

    // a copy of the app whose first table component names a column that does not exist
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'carry-broken-'));
    fs.cpSync(path.join(ROOT, 'app'), app, { recursive: true });
    const file = path.join(app, 'definition/meta.ui_components.json');
    const comps = JSON.parse(fs.readFileSync(file, 'utf8'));
    const target = comps.find((c: { config_json: { columns?: unknown[] } }) => Array.isArray(c.config_json?.columns) && c.config_json.columns.length > 1);
    target.config_json.columns[1] = 'no_such_column';
    fs.writeFileSync(file, JSON.stringify(comps, null, 2));
    const bad = run(['doctor', '--json'], { ...env, CARRY_APP_DIR: app });
    expect(bad.code).toBe(1);
    const findings = JSON.parse(bad.out.slice(bad.out.indexOf('[')));
    expect(findings).toContainEqual(expect.objectContaining({
      severity: 'error', code: 'unknown-column',
      location: `ui_components[name=${target.component_name}].config.columns[1]`,
    }));

    // a dangling reference between definition rows is reported with file, row and column
    const views = JSON.parse(fs.readFileSync(file, 'utf8'));
    views[0].view_id = 'no-such-view';
    fs.writeFileSync(file, JSON.stringify(views, null, 2));
    const dangling = run(['doctor'], { ...env, CARRY_APP_DIR: app });
    expect(dangling.code).toBe(1);
    expect(dangling.out).toMatch(/meta\.ui_components\.json\[0\]\.view_id: view_id = "no-such-view" names no row of meta\.ui_views/);
  });
});

describe('carry audit verify and rotate-master-key', () => {
  it('verify an intact audit chain, find a tampered row, and re-wrap secrets under a new key', async () => {
    const env = await freshEnv();
    // Embedded: the key file is made on first use. A server database: keys come from the environment.
    const crypto = await import('node:crypto');
    const keyA = crypto.randomBytes(32).toString('base64'), keyB = crypto.randomBytes(32).toString('base64');
    if (ON_POSTGRES) env.CARRY_MASTER_KEY = keyA;
    const { child, url } = await startCarry(env);
    const { privateKeyToAccount } = await import('viem/accounts');
    const { buildSiweMessage } = await import('../engine/access/siwe/message.ts');
    const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    const n = await (await fetch(`${url}/auth/nonce`)).json();
    const message = buildSiweMessage({ domain: n.domain, address: account.address, uri: n.uri, version: '1', chainId: n.chain_ids[0], nonce: n.nonce, issuedAt: new Date().toISOString() } as never);
    const signed = await fetch(`${url}/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' }, body: JSON.stringify({ message, signature: await account.signMessage({ message }) }) });
    expect(signed.status).toBe(200);
    const cookie = signed.headers.get('set-cookie')!.split(';')[0];
    const w = await fetch(`${url}/api/user_wallets`, { method: 'POST', headers: { cookie, origin: 'http://localhost:3000', 'content-type': 'application/json' }, body: JSON.stringify({ wallet_address: '0x1212121212121212121212121212121212121212', chain: 'hyperliquid', encrypted_private_key: '0xdeadbeef' }) });
    expect(w.status, await w.clone().text()).toBe(201);
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;

    const ok = run(['audit', 'verify'], env);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/audit log intact: [1-9]\d* rows/);

    const { loadMasterKey } = await import('../engine/secrets/master-key.ts');
    const keyFile = path.join(path.dirname(env.CARRY_DATA_DIR!), '.data.master.key');
    let newKey;
    if (ON_POSTGRES) {
      const rot = run(['rotate-master-key'], { ...env, CARRY_NEW_MASTER_KEY: keyB });
      expect(rot.code, rot.out).toBe(0);
      expect(rot.out).toMatch(/re-wrapped 1,/);
      expect(run(['rotate-master-key'], { ...env, CARRY_NEW_MASTER_KEY: keyB }).out).toMatch(/re-wrapped 0, already on the new key 1/); // rerun is safe
      newKey = loadMasterKey({ env: { CARRY_MASTER_KEY: keyB } });
    } else {
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      const before = fs.readFileSync(keyFile);
      const rot = run(['rotate-master-key'], env);
      expect(rot.code, rot.out).toBe(0);
      expect(rot.out).toMatch(/re-wrapped 1,/);
      expect(fs.readFileSync(keyFile).equals(before)).toBe(false);
      expect(fs.readFileSync(`${keyFile}.old`).equals(before)).toBe(true);
      newKey = loadMasterKey({ env: {}, keyFile });
    }

    // the secret opens with the new key; then tamper with one audit row, as the owner
    const { connect } = await import('../engine/db/connect.ts');
    const db = await connect(ON_POSTGRES ? { databaseUrl: env.DATABASE_URL } : { dataDir: env.CARRY_DATA_DIR });
    const { open } = await import('../engine/secrets/envelope.ts');
    const stored = (await db.pool.query('SELECT wallet_id::text AS id, encrypted_private_key AS v FROM app.user_wallets WHERE wallet_address = $1', ['0x1212121212121212121212121212121212121212'])).rows[0];
    expect(open(stored.v, `app.user_wallets:encrypted_private_key:${stored.id}`, newKey).toString()).toBe('0xdeadbeef');
    const row = (await db.pool.query(`SELECT min(log_id)::text AS id FROM meta.action_logs`)).rows[0].id;
    await db.pool.query('ALTER TABLE meta.action_logs DISABLE TRIGGER USER');
    await db.pool.query(`UPDATE meta.action_logs SET details_json = '{"forged":true}' WHERE log_id = $1`, [row]);
    await db.close();
    const bad = run(['audit', 'verify'], env);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`BROKEN at log_id ${row}: hash_mismatch`);
  });
});
