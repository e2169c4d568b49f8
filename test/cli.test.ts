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
