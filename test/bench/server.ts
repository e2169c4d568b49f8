// The server side of the API benchmark, run in its own process (spawned by api.bench.ts) so
// the load generator does not share its event loop or its memory figures.
// Env: BENCH_DB_URL (PostgreSQL) or BENCH_PGLITE_DIR (a data folder, or memory://); BENCH_ROWS.
// Talks over IPC: sends {type:'ready', …}; answers {type:'mem'} and {type:'cpu'}; exits on {type:'close'}.
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { startEngine } from '../../engine/engine.ts';
import { buildServer } from '../../engine/api/server.ts';
import { Logs } from '../../engine/ops/log.ts';
import { ENTITY, makeAppDir } from './fixture.ts';
import { buildHandwritten, handwrittenHandler } from './handwritten.ts';

export type ToServer = { type: 'mem' } | { type: 'cpu' } | { type: 'close' };
export type FromServer =
  | { type: 'ready'; kind: 'pglite' | 'postgres'; generic: string; handwritten: string; pipeline: string; startMs: number; mem: NodeJS.MemoryUsage }
  | { type: 'mem'; mem: NodeJS.MemoryUsage }
  | { type: 'cpu'; cpu: NodeJS.CpuUsage }
  | { type: 'failed'; error: string };

const send = (m: FromServer) => process.send!(m);

async function main() {
  const rows = Number(process.env.BENCH_ROWS ?? 100_000);
  const url = process.env.BENCH_DB_URL || undefined;
  const dir = makeAppDir(rows);
  const t0 = performance.now();
  const engine = await startEngine({
    databaseUrl: url,
    dataDir: url ? undefined : process.env.BENCH_PGLITE_DIR ?? 'memory://',
    appDir: dir.appDir, pluginsDir: dir.pluginsDir,
    seed: false, logs: new Logs({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
  });
  const startMs = performance.now() - t0;
  dir.remove();
  // Settle the freshly seeded table before measuring: without this, autovacuum and first-read
  // hint-bit writes land in whichever run happens to come first.
  await engine.db.pool.query(`VACUUM (ANALYZE) app.${ENTITY}`);
  if (engine.db.kind === 'postgres') await engine.db.pool.query('CHECKPOINT');

  const generic = await buildServer(engine);
  await generic.listen({ port: 0, host: '127.0.0.1' });

  // PGlite has one connection: the baseline must share the engine's pool. On PostgreSQL it gets
  // its own pool of the same size (the engine's default, 10), same session time zone.
  const ownPool = engine.db.kind === 'postgres'
    ? new pg.Pool({ connectionString: url, max: Number(process.env.BENCH_POOL ?? 10), options: '-c timezone=UTC' })
    : null;
  const hand = await buildHandwritten(ownPool ?? engine.db.pool, engine.db.kind === 'postgres');
  await hand.listen({ port: 0, host: '127.0.0.1' });
  // Diagnostic: the same hand-written handler inside the engine's HTTP pipeline (buildServer's
  // request ids, loggers, metrics and hooks; its static route wins over /api/:entity), to tell
  // the pipeline's cost from the generic handler's.
  const pipeline = await buildServer(engine);
  pipeline.get(`/api/${ENTITY}`, handwrittenHandler(ownPool ?? engine.db.pool, engine.db.kind === 'postgres'));
  await pipeline.listen({ port: 0, host: '127.0.0.1' });

  const addr = (s: typeof generic) => `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
  send({ type: 'ready', kind: engine.db.kind, generic: addr(generic), handwritten: addr(hand), pipeline: addr(pipeline), startMs, mem: process.memoryUsage() });

  process.on('message', async (m: ToServer) => {
    if (m.type === 'mem') send({ type: 'mem', mem: process.memoryUsage() });
    if (m.type === 'cpu') send({ type: 'cpu', cpu: process.cpuUsage() });
    if (m.type === 'close') {
      await pipeline.close();
      await hand.close();
      await generic.close();
      await ownPool?.end();
      await engine.close();
      process.disconnect();
      process.exit(0); // --cpu-prof writes its profile on a normal exit
    }
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((e) => {
  send({ type: 'failed', error: e instanceof Error ? e.stack ?? e.message : String(e) });
  setTimeout(() => process.exit(1), 100);
});
