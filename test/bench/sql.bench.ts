// The database side of a request, without HTTP in the way: one connection runs each variant many
// times, in alternating batches; the backend's CPU time is read from /proc (the server must run
// on this machine), the client's from process.cpuUsage. Compares the statements the generic API
// sends per request (the planned SQL inside Access.asRole's transaction) with the hand-written
// SQL, and variants that drop one piece at a time.
// node bin/run-ts.mjs test/bench/sql.bench.ts     (env SQL_ITERATIONS per batch, default 2000;
// BENCH_DATABASE_URL admin URL as in api.bench.ts)
import crypto from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { startEngine } from '../../engine/engine.ts';
import { Logs } from '../../engine/ops/log.ts';
import { parseQuery } from '../../engine/api/parse/query.ts';
import { entityOf, planRead } from '../../engine/api/plan/read.ts';
import { queryPairs } from '../../engine/api/routes/resources.ts';
import { getPath, LIST_PATH, makeAppDir } from './fixture.ts';
import { GET_SQL, LIST_SQL } from './handwritten.ts';
import { pgRole } from '../../engine/access/install.ts';

const N = Number(process.env.SQL_ITERATIONS ?? 2000);
const BATCHES = 5;
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function backendCpuUs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

const name = `carry_bench_${crypto.randomBytes(5).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
try {
  const dir = makeAppDir(Number(process.env.BENCH_ROWS ?? 100_000));
  const engine = await startEngine({ databaseUrl: url.toString(), appDir: dir.appDir, pluginsDir: dir.pluginsDir, seed: false, watch: false, logs: new Logs({ level: 'silent' }) });
  dir.remove();
  const model = engine.store.current;
  const e = entityOf(model, 'bench_items');
  const plan = (p: string, limit: number) => planRead(model, e, parseQuery(queryPairs(p)), { count: 'none', limit });
  const list = plan(LIST_PATH, 50);
  const get = plan(getPath(1), 1000);
  await engine.db.pool.query('VACUUM (ANALYZE) app.bench_items');
  await engine.close();

  const client = new pg.Client({ connectionString: url.toString(), options: '-c timezone=UTC' });
  await client.connect();
  const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  const ids = Array.from({ length: N }, (_, i) => String(1 + ((i * 7919) % 100_000)));
  // The engine runs every read as the request's role inside a transaction (Access.asRole):
  // BEGIN; set_config(role, user…, true); the statement; RESET ROLE; COMMIT — five round trips.
  const ROLE_SQL = `SELECT set_config('role', $1, true), set_config('request.user.id', $2, true),
        set_config('request.user.wallet_address', $3, true), set_config('request.role', $4, true)`;
  const roleValues = [pgRole('anonymous'), '', '', 'anonymous'];
  type Step = { text: string; values?: unknown[]; name?: string };
  const asRole = (main: (i: number) => Step, reset = true) => (i: number): Step[] => [
    { text: 'BEGIN' }, { text: ROLE_SQL, values: roleValues }, main(i), ...(reset ? [{ text: 'RESET ROLE' }] : []), { text: 'COMMIT' },
  ];
  const bare = (main: (i: number) => Step) => (i: number): Step[] => [main(i)];
  const listGeneric = () => ({ text: list.text, values: list.values, name: 'list_generic' });
  const getGeneric = (i: number) => ({ text: get.text, values: [ids[i]], name: 'get_generic' });
  const variants: { label: string; steps: (i: number) => Step[] }[] = [
    { label: 'list: generic SQL, as the engine runs it (BEGIN, set_config, SELECT, RESET ROLE, COMMIT)', steps: asRole(listGeneric) },
    { label: 'list: generic SQL in a transaction without RESET ROLE (4 round trips)', steps: asRole(listGeneric, false) },
    { label: 'list: generic SQL alone (1 round trip, as the engine did before the access layer)', steps: bare(listGeneric) },
    { label: 'list: generic SQL without count(_r), alone', steps: bare(() => ({ text: list.text.replace('count(_r) AS page', '0 AS page'), values: list.values, name: 'list_nocount' })) },
    { label: 'list: hand-written SQL alone', steps: bare(() => ({ text: LIST_SQL, values: ['active', '100', 50], name: 'list_hand' })) },
    { label: 'get: generic SQL, as the engine runs it (5 round trips)', steps: asRole(getGeneric) },
    { label: 'get: generic SQL in a transaction without RESET ROLE (4 round trips)', steps: asRole(getGeneric, false) },
    { label: 'get: generic SQL alone', steps: bare(getGeneric) },
    { label: 'get: hand-written SQL alone', steps: bare((i) => ({ text: GET_SQL, values: [ids[i]], name: 'get_hand' })) },
  ];
  const best = new Map<string, { cpu: number; wall: number; client: number }>();
  for (let b = 0; b < BATCHES + 1; b++) {
    for (const v of variants) {
      const c0 = backendCpuUs(pid);
      const n0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < N; i++) for (const step of v.steps(i)) await client.query(step);
      const wall = ((performance.now() - t0) * 1000) / N;
      const n = process.cpuUsage(n0);
      const cpu = (backendCpuUs(pid) - c0) / N;
      if (b === 0) continue; // warm-up batch
      const prev = best.get(v.label);
      best.set(v.label, {
        cpu: Math.min(prev?.cpu ?? Infinity, cpu), wall: Math.min(prev?.wall ?? Infinity, wall),
        client: Math.min(prev?.client ?? Infinity, (n.user + n.system) / N),
      });
    }
  }
  const plans = await client.query('SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name');
  await client.end();
  console.log(`\nPer request, µs (best of ${BATCHES} batches of ${N}, one connection, no HTTP): PostgreSQL backend CPU (10 ms ticks per batch), Node client CPU (pg), round-trip wall time\n`);
  console.log(`${'PG CPU'.padStart(7)} ${'Node CPU'.padStart(9)} ${'wall'.padStart(6)}`);
  for (const v of variants) {
    const r = best.get(v.label)!;
    console.log(`${r.cpu.toFixed(0).padStart(7)} ${r.client.toFixed(0).padStart(9)} ${r.wall.toFixed(0).padStart(6)}  ${v.label}`);
  }
  console.log('\nplans PostgreSQL chose for the named statements (custom = planned again on every execution):');
  for (const r of plans.rows) console.log(`  ${r.name}: generic ${r.generic_plans}, custom ${r.custom_plans}`);
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
