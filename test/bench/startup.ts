// Startup of the real thing: `node bin/carry.mjs start` with Carry's own app/ folder, timed
// from spawn to the first 200 from /readyz, run once to initialise the database and once more
// to measure a restart; then the idle RSS of that process.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../engine/engine.ts';

export interface StartRun { ok: boolean; readyMs: number | null; reason?: string }
export interface StartupResult {
  database: 'pglite' | 'postgres';
  firstRun: StartRun;
  restart: StartRun | null;
  idleRssMb: number | null;
  idleSeconds: number;
  appContents: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch { return null; }
}

/** What Carry's app/ folder held when measured, since the numbers depend on it. */
export function describeApp(): string {
  const count = (sub: string) => {
    const d = path.join(ROOT, 'app', sub);
    if (!fs.existsSync(d)) return 0;
    let n = 0;
    const walk = (p: string) => { for (const e of fs.readdirSync(p, { withFileTypes: true })) e.isDirectory() ? walk(path.join(p, e.name)) : n++; };
    walk(d);
    return n;
  };
  return `app/schema: ${count('schema')} files, app/definition: ${count('definition')} files, app/demo: ${count('demo')} files`;
}

interface Running { child: ChildProcess; output: () => string; exited: Promise<number | null> }

const running = new Set<Running>();
/** Stops any `carry start` this module launched (for Ctrl-C in the benchmark). */
export async function stopAll(): Promise<void> {
  for (const r of running) await stop(r);
}

function launch(env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/carry.mjs'), 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-8000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const r = { child, output: () => out, exited };
  running.add(r);
  void exited.then(() => running.delete(r));
  return r;
}

async function waitReady(r: Running, port: number, t0: number, timeoutMs: number): Promise<StartRun> {
  let exitCode: number | null | undefined;
  void r.exited.then((c) => { exitCode = c; });
  for (;;) {
    if (exitCode !== undefined) return { ok: false, readyMs: null, reason: `exited with code ${exitCode}: ${lastLines(r.output())}` };
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return { ok: true, readyMs: performance.now() - t0 };
    } catch { /* not listening yet */ }
    if (performance.now() - t0 > timeoutMs) return { ok: false, readyMs: null, reason: `not ready within ${timeoutMs} ms: ${lastLines(r.output())}` };
    await new Promise((res) => setTimeout(res, 10));
  }
}

function lastLines(s: string): string {
  const lines = s.trim().split('\n').filter(Boolean).slice(-4).map((l) => {
    try { const j = JSON.parse(l); return `${j.msg ?? ''}${j.err?.message ? ': ' + j.err.message : ''}`; } catch { return l; }
  });
  return lines.join(' | ').slice(0, 600) || '(no output)';
}

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGTERM');
  const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
  await r.exited;
  clearTimeout(t);
}

async function runOnce(env: NodeJS.ProcessEnv, timeoutMs: number, idleSeconds: number): Promise<{ run: StartRun; rss: number | null }> {
  const port = await freePort();
  const t0 = performance.now();
  const r = launch({ ...env, PORT: String(port), HOST: '127.0.0.1' });
  try {
    const run = await waitReady(r, port, t0, timeoutMs);
    let rss: number | null = null;
    if (run.ok && idleSeconds > 0) {
      await new Promise((res) => setTimeout(res, idleSeconds * 1000));
      rss = rssMb(r.child.pid!);
    }
    return { run, rss };
  } finally {
    await stop(r);
  }
}

/** databaseUrl: a fresh PostgreSQL database; otherwise embedded PGlite in a temp data folder. */
export async function measureStartup(databaseUrl: string | null, idleSeconds: number): Promise<StartupResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carry-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.BENCH_START_LOG_LEVEL ?? 'info' };
  delete env.DATABASE_URL;
  delete env.CARRY_APP_DIR;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  else env.CARRY_DATA_DIR = path.join(tmp, 'data');
  const appContents = describeApp();
  try {
    const first = await runOnce(env, 180_000, 0);
    if (!first.run.ok) return { database: databaseUrl ? 'postgres' : 'pglite', firstRun: first.run, restart: null, idleRssMb: null, idleSeconds, appContents };
    const again = await runOnce(env, 60_000, idleSeconds);
    return { database: databaseUrl ? 'postgres' : 'pglite', firstRun: first.run, restart: again.run, idleRssMb: again.rss, idleSeconds, appContents };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
