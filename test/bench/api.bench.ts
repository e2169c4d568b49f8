// `npm run bench:api` — the generic HTTP API against a hand-written Fastify + pg handler for the
// same two requests, on embedded PGlite and on PostgreSQL; plus startup and idle memory of
// `carry start`. What it measures and how to read it: docs/PERFORMANCE.md.
//
// Env: BENCH_SECONDS (10) per measured run · BENCH_CONNECTIONS (10) · BENCH_WARMUP_SECONDS (3)
// · BENCH_IDLE_SECONDS (5) · BENCH_ROWS (100000) · BENCH_ROUNDS (1; >1 reports the median run)
// · BENCH_DBS (pglite,postgres) · BENCH_ENDPOINTS (list,get) · BENCH_IMPLS (generic,handwritten;
// add `pipeline` for the diagnostic: the hand-written handler inside buildServer's pipeline) · BENCH_DATABASE_URL (admin URL of the PostgreSQL server; a
// fresh carry_bench_<random> database is created on it and dropped; default
// postgres://postgres@127.0.0.1:5432/postgres) · BENCH_PGLITE (dir | memory; default dir: a
// temp data folder) · BENCH_STARTUP (1; 0 skips the `carry start` part) · BENCH_API (1; 0 skips
// the API part) · BENCH_OUT (write the
// results as JSON there) · BENCH_CPU_PROF (a folder: run the server process under --cpu-prof).
import autocannon, { type Result } from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ROOT } from '../../engine/engine.ts';
import { getPath, LIST_PATH } from './fixture.ts';
import type { FromServer, ToServer } from './server.ts';
import { measureStartup, stopAll, type StartupResult } from './startup.ts';
import { printReport } from './report.ts';
import { backendCpu, cpuDelta, machineBusyUs } from './cpu.ts';

const env = process.env;
const cfg = {
  seconds: Number(env.BENCH_SECONDS ?? 10),
  connections: Number(env.BENCH_CONNECTIONS ?? 10),
  warmup: Number(env.BENCH_WARMUP_SECONDS ?? 3),
  idle: Number(env.BENCH_IDLE_SECONDS ?? 5),
  rows: Number(env.BENCH_ROWS ?? 100_000),
  rounds: Math.max(1, Number(env.BENCH_ROUNDS ?? 1)),
  dbs: (env.BENCH_DBS ?? 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean) as ('pglite' | 'postgres')[],
  adminUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  pgliteInMemory: env.BENCH_PGLITE === 'memory',
  startup: env.BENCH_STARTUP !== '0',
  api: env.BENCH_API !== '0',
  cpuProf: env.BENCH_CPU_PROF ? path.resolve(env.BENCH_CPU_PROF) : null,
  endpoints: (env.BENCH_ENDPOINTS ?? 'list,get').split(',').map((s) => s.trim()) as Endpoint[],
  quietWait: Number(env.BENCH_QUIET_WAIT ?? 300),
  noisyPct: Number(env.BENCH_NOISY_PCT ?? 20),
  retries: Number(env.BENCH_RETRIES ?? 3),
  quietBelowPct: Number(env.BENCH_QUIET_BELOW ?? 15),
  impls: (env.BENCH_IMPLS ?? 'generic,handwritten').split(',').map((s) => s.trim()) as Impl[],
};

export type Endpoint = 'list' | 'get';
export type Impl = 'generic' | 'handwritten' | 'pipeline';
export interface Run {
  database: string; endpoint: Endpoint; implementation: Impl;
  rps: number; requests: number; p50: number; p99: number; mean: number;
  errors: number; non2xx: number; timeouts: number; seconds: number;
  /** CPU time of the server process (user + system) per request, µs; and its share of one core */
  serverUsPerReq: number; serverCorePct: number;
  /** CPU of the whole machine (all processes: server, PostgreSQL, load generator) per request, µs */
  machineUsPerReq: number;
  /** CPU of the PostgreSQL backends of the benchmark database per request, µs (PostgreSQL runs only) */
  postgresUsPerReq: number;
  /** CPU of this process — autocannon, the load generator — per request, µs */
  loadgenUsPerReq: number;
  /** CPU used by everything else on the machine during the run (other programs, kernel), % of one core */
  otherCorePct: number;
  /** still disturbed by other programs after the retries */
  noisy?: boolean;
}
export interface MemRow { database: string; rssStartMb: number; rssAfterLoadMb: number; rssIdleMb: number; heapIdleMb: number; startMs: number }
export interface Report {
  machine: Record<string, string | number>; config: typeof cfg; runs: Run[]; memory: MemRow[];
  startup: (StartupResult | { database: string; error: string })[]; failures: string[];
}

// ---- PostgreSQL: a fresh database per run ----------------------------------------------------

async function freshDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `carry_bench_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

// ---- the server process ------------------------------------------------------------------------

interface ServerHandle { child: ChildProcess; ready: Extract<FromServer, { type: 'ready' }>; ask(m: ToServer): Promise<FromServer>; close(): Promise<void> }

async function startServer(dbUrl: string | null, pgliteDir: string | null, label: string): Promise<ServerHandle> {
  const execArgv = cfg.cpuProf ? ['--cpu-prof', '--cpu-prof-interval', env.BENCH_CPU_PROF_INTERVAL ?? '250', '--cpu-prof-dir', path.join(cfg.cpuProf, label)] : []; // one file per thread (main, tsx loader)
  const childEnv: NodeJS.ProcessEnv = { ...env, BENCH_ROWS: String(cfg.rows) };
  delete childEnv.BENCH_DB_URL;
  delete childEnv.DATABASE_URL;
  if (dbUrl) childEnv.BENCH_DB_URL = dbUrl;
  else childEnv.BENCH_PGLITE_DIR = pgliteDir ?? 'memory://';
  const child = spawn(process.execPath, [...execArgv, path.join(ROOT, 'bin/run-ts.mjs'), path.join(ROOT, 'test/bench/server.ts')], {
    cwd: ROOT, env: childEnv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = () => new Promise<FromServer>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`benchmark server exited (code ${code})`));
    child.once('exit', onExit);
    child.once('message', (m) => { child.off('exit', onExit); resolve(m as FromServer); });
  });
  const first = await next();
  if (first.type !== 'ready') throw new Error(`benchmark server failed to start: ${first.type === 'failed' ? first.error : first.type}`);
  return {
    child, ready: first,
    async ask(m) { const p = next(); child.send(m); return p; },
    async close() {
      if (child.exitCode !== null) return;
      child.send({ type: 'close' } satisfies ToServer);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---- correctness check before measuring ---------------------------------------------------------

async function body(base: string, p: string): Promise<{ status: number; text: string }> {
  const res = await fetch(base + p);
  return { status: res.status, text: await res.text() };
}

async function verifySame(s: ServerHandle, ids: number[]): Promise<void> {
  const paths = [LIST_PATH, ...ids.slice(0, 25).map(getPath)];
  for (const p of paths) {
    const [g, h, x] = await Promise.all([body(s.ready.generic, p), body(s.ready.handwritten, p), body(s.ready.pipeline, p)]);
    const problem = g.status !== 200 ? `generic answered ${g.status}: ${g.text.slice(0, 400)}`
      : h.status !== 200 ? `hand-written answered ${h.status}: ${h.text.slice(0, 400)}`
        : g.text !== h.text ? `bodies differ:\n  generic:      ${g.text.slice(0, 300)}\n  hand-written: ${h.text.slice(0, 300)}`
          : x.text !== h.text ? `the hand-written handler answers differently inside buildServer's pipeline: ${x.status} ${x.text.slice(0, 300)}`
            : null;
    if (problem) throw new Error(`[${s.ready.kind}] ${p}: ${problem}`);
    const rows = JSON.parse(g.text) as unknown[];
    const want = p === LIST_PATH ? 50 : 1;
    if (rows.length !== want) throw new Error(`[${s.ready.kind}] ${p}: expected ${want} rows, got ${rows.length}`);
  }
}

// ---- load ----------------------------------------------------------------------------------------

function pathsFor(endpoint: Endpoint, ids: number[]): string[] {
  return endpoint === 'list' ? [LIST_PATH] : ids.map(getPath);
}

function percentile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One autocannon run; latencies are collected here in float ms (autocannon's own histogram has 1 ms resolution). */
async function load(base: string, paths: string[], seconds: number): Promise<{ result: Result; latencies: Float64Array }> {
  let k = 0;
  let lat = new Float64Array(1 << 16);
  let n = 0;
  const instance = autocannon({
    url: base, connections: cfg.connections, duration: seconds, timeout: 10,
    requests: [{ method: 'GET', path: paths[0] }],
    // Each connection walks the id list from its own offset, so connections do not ask for the same row in lockstep.
    setupClient(client) {
      const start = (k++ * 7919) % paths.length;
      client.setRequests(paths.map((_, i) => ({ method: 'GET', path: paths[(start + i) % paths.length] })));
    },
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status < 200 || status > 299) return;
    if (n === lat.length) { const bigger = new Float64Array(lat.length * 2); bigger.set(lat); lat = bigger; }
    lat[n++] = ms;
  });
  const result = await instance;
  return { result, latencies: lat.subarray(0, n).sort() };
}

interface PgProbe { admin: pg.Client; database: string }

/**
 * Waits (up to cfg.quietWait seconds) until the machine is nearly idle, so other programs
 * (a test suite running next door) do not share the cores with a measurement.
 */
async function waitQuiet(label: string): Promise<void> {
  const t0 = Date.now();
  let warned = false;
  for (;;) {
    const a = machineBusyUs();
    await sleep(2000);
    const busyPct = (100 * (machineBusyUs() - a)) / (2e6 * os.availableParallelism());
    if (busyPct < cfg.quietBelowPct) return;
    if ((Date.now() - t0) / 1000 > cfg.quietWait) { console.error(`  [${label}] machine still ${busyPct.toFixed(0)} % busy; measuring anyway`); return; }
    if (!warned) { console.error(`  [${label}] machine ${busyPct.toFixed(0)} % busy before the run; waiting for it to settle…`); warned = true; }
  }
}

/** One measured run; repeated (up to BENCH_RETRIES times) when other programs took CPU meanwhile. */
async function measure(database: string, s: ServerHandle, endpoint: Endpoint, impl: Impl, ids: number[], probe: PgProbe | null): Promise<Run> {
  for (let attempt = 1; ; attempt++) {
    const run = await measureOnce(database, s, endpoint, impl, ids, probe);
    if (run.otherCorePct <= cfg.noisyPct) return run;
    if (attempt > cfg.retries) { run.noisy = true; return run; }
    console.error(`  … other programs used ${run.otherCorePct.toFixed(0)} % of a core during that run; repeating it`);
  }
}

async function measureOnce(database: string, s: ServerHandle, endpoint: Endpoint, impl: Impl, ids: number[], probe: PgProbe | null): Promise<Run> {
  const base = s.ready[impl];
  const paths = pathsFor(endpoint, ids);
  await waitQuiet(`${database} ${endpoint} ${impl}`);
  if (cfg.warmup > 0) await load(base, paths, cfg.warmup);
  const cpu0 = await s.ask({ type: 'cpu' });
  const m0 = machineBusyUs();
  const pg0 = probe ? await backendCpu(probe.admin, probe.database) : null;
  const lg0 = process.cpuUsage();
  const { result: r, latencies } = await load(base, paths, cfg.seconds);
  const lg = process.cpuUsage(lg0);
  const pg1 = probe ? await backendCpu(probe.admin, probe.database) : null;
  const m1 = machineBusyUs();
  const cpu1 = await s.ask({ type: 'cpu' });
  const ok = r['2xx'];
  const serverUs = cpu0.type === 'cpu' && cpu1.type === 'cpu' ? cpu1.cpu.user + cpu1.cpu.system - cpu0.cpu.user - cpu0.cpu.system : NaN;
  const run: Run = {
    database, endpoint, implementation: impl,
    rps: ok / r.duration, requests: ok, seconds: r.duration,
    p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99),
    mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : NaN,
    errors: r.errors, non2xx: r.non2xx, timeouts: r.timeouts,
    serverUsPerReq: serverUs / ok, serverCorePct: (100 * serverUs) / (r.duration * 1e6),
    machineUsPerReq: (m1 - m0) / ok,
    postgresUsPerReq: pg0 && pg1 ? cpuDelta(pg0, pg1) / ok : NaN,
    loadgenUsPerReq: (lg.user + lg.system) / ok,
    otherCorePct: (100 * (m1 - m0 - serverUs - (pg0 && pg1 ? cpuDelta(pg0, pg1) : 0) - lg.user - lg.system)) / (r.duration * 1e6),
  };
  console.error(`  ${database.padEnd(8)} ${endpoint.padEnd(4)} ${impl.padEnd(11)} ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50.toFixed(2)} ms  p99 ${run.p99.toFixed(2)} ms  server ${run.serverUsPerReq.toFixed(0)} µs/req (${run.serverCorePct.toFixed(0)} % of a core)  postgres ${run.postgresUsPerReq.toFixed(0)} µs/req  autocannon ${run.loadgenUsPerReq.toFixed(0)} µs/req  machine ${run.machineUsPerReq.toFixed(0)} µs/req  other load ${run.otherCorePct.toFixed(0)} % of a core  errors ${run.errors} non-2xx ${run.non2xx}`);
  return run;
}

/** A fixed pseudo-random (mulberry32) list of ids in 1..rows, the same on every run. */
function randomIds(count: number, rows: number): number[] {
  let a = 0x2545f491;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => 1 + Math.floor(next() * rows));
}

const mb = (b: number) => Math.round(b / 1048576);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function benchDatabase(kind: 'pglite' | 'postgres', report: Report): Promise<void> {
  let drop: (() => Promise<void>) | undefined;
  let tmp: string | undefined;
  let server: ServerHandle | undefined;
  let probe: PgProbe | null = null;
  const cleanup = async () => {
    await server?.close().catch(() => {});
    await probe?.admin.end().catch(() => {});
    await drop?.().catch((e) => console.error(`could not drop the benchmark database: ${(e as Error).message}`));
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  try {
    let dbUrl: string | null = null;
    let pgliteDir: string | null = null;
    if (kind === 'postgres') {
      const fresh = await freshDatabase(cfg.adminUrl);
      dbUrl = fresh.url; drop = fresh.drop;
      const admin = new pg.Client({ connectionString: cfg.adminUrl });
      await admin.connect();
      probe = { admin, database: new URL(dbUrl).pathname.slice(1) };
    } else if (!cfg.pgliteInMemory) {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carry-bench-pglite-'));
      pgliteDir = path.join(tmp, 'data');
    }
    console.error(`[${kind}] starting engine and seeding ${cfg.rows} rows…`);
    server = await startServer(dbUrl, pgliteDir, kind);
    console.error(`[${kind}] ready in ${(server.ready.startMs / 1000).toFixed(1)} s (migrations + seed); generic ${server.ready.generic}, hand-written ${server.ready.handwritten}`);

    // A fixed pseudo-random set of ids, so every run and both implementations ask for the same rows.
    const ids = randomIds(2000, cfg.rows);
    await verifySame(server, ids);
    console.error(`[${kind}] both implementations return identical bodies for the list and 25 get-by-key requests`);

    const runs: Run[][] = [];
    for (let round = 0; round < cfg.rounds; round++) {
      for (const [i, endpoint] of cfg.endpoints.entries()) {
        // Alternate which implementation goes first, so neither always runs on a colder system.
        const order = round % 2 ? [...cfg.impls.entries()].reverse() : [...cfg.impls.entries()];
        for (const [j, impl] of order) {
          (runs[i * cfg.impls.length + j] ??= []).push(await measure(kind, server, endpoint, impl, ids, probe));
        }
      }
    }
    // With several rounds, keep each combination's median run by throughput.
    for (const rs of runs) if (rs) report.runs.push([...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)]);

    const after = await server.ask({ type: 'mem' });
    await sleep(cfg.idle * 1000);
    const idle = await server.ask({ type: 'mem' });
    if (after.type === 'mem' && idle.type === 'mem') {
      report.memory.push({
        database: kind, rssStartMb: mb(server.ready.mem.rss), rssAfterLoadMb: mb(after.mem.rss),
        rssIdleMb: mb(idle.mem.rss), heapIdleMb: mb(idle.mem.heapUsed), startMs: server.ready.startMs,
      });
    }
  } catch (e) {
    const msg = `[${kind}] ${(e as Error).message}`;
    console.error(`FAILED ${msg}`);
    report.failures.push(msg);
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}

async function benchStartup(kind: 'pglite' | 'postgres', report: Report): Promise<void> {
  let drop: (() => Promise<void>) | undefined;
  try {
    let url: string | null = null;
    if (kind === 'postgres') { const f = await freshDatabase(cfg.adminUrl); url = f.url; drop = f.drop; }
    await waitQuiet(`startup ${kind}`);
    console.error(`[startup ${kind}] carry start: first run, then a timed restart…`);
    report.startup.push(await measureStartup(url, cfg.idle));
  } catch (e) {
    report.startup.push({ database: kind, error: (e as Error).message });
  } finally {
    await drop?.().catch(() => {});
  }
}

/** Which engine was measured: the commit, and engine files changed since (read-only git). */
function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'engine'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
    return dirty ? `${head} + ${dirty} uncommitted engine file(s)` : head;
  } catch { return 'unknown'; }
}

function machine(): Record<string, string | number> {
  return {
    revision: revision(),
    nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(os.totalmem() / 1e9),
    node: process.version, platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString(),
  };
}

// Ctrl-C: stop the server process, drop the database and remove temp folders before leaving.
const cleanups = new Set<() => Promise<void>>([stopAll]);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, async () => {
    console.error(`\n${sig}: cleaning up…`);
    for (const c of cleanups) await c().catch(() => {});
    process.exit(130);
  });
}

async function main() {
  const report: Report = { machine: machine(), config: cfg, runs: [], memory: [], startup: [], failures: [] };
  console.error(`bench:api — ${cfg.seconds} s per run after ${cfg.warmup} s warm-up, ${cfg.connections} connections, ${cfg.rows} rows, ${report.machine.nproc} cores (${report.machine.cpu})`);
  if (cfg.api) for (const kind of cfg.dbs) await benchDatabase(kind, report);
  if (cfg.startup) for (const kind of cfg.dbs) await benchStartup(kind, report);
  printReport(report);
  if (env.BENCH_OUT) {
    fs.writeFileSync(env.BENCH_OUT, JSON.stringify(report, null, 2) + '\n');
    console.log(`\nresults written to ${env.BENCH_OUT}`);
  }
  if (report.failures.length) process.exitCode = 1;
}

await main();
