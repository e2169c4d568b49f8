// Where the generic API's extra CPU per request goes, without a network or a database in the
// way: (1) the per-request planning work of the generic read handler (parse the URL, plan the
// SQL, hash it into a statement name) and (2) the HTTP pipeline buildServer sets up (request
// ids, child loggers, metrics hooks) against a plain Fastify, both with a constant handler.
// node bin/run-ts.mjs test/bench/overhead.bench.ts      (env OVERHEAD_ITERATIONS, default 20000)
import Fastify, { type FastifyInstance } from 'fastify';
import crypto from 'node:crypto';
import { startEngine } from '../../engine/engine.ts';
import { buildServer } from '../../engine/api/server.ts';
import { Logs } from '../../engine/ops/log.ts';
import { parseQuery } from '../../engine/api/parse/query.ts';
import { entityOf, planRead } from '../../engine/api/plan/read.ts';
import { parseAccept, parsePrefer, parseRange } from '../../engine/api/headers.ts';
import { queryPairs } from '../../engine/api/routes/resources.ts';
import { getPath, LIST_PATH, makeAppDir } from './fixture.ts';

const N = Number(process.env.OVERHEAD_ITERATIONS ?? 20_000);

/** CPU µs per call of fn: the fastest of 5 batches of N/5 calls, after a warm-up (the minimum resists noise from other programs). */
async function perCall(fn: () => unknown | Promise<unknown>): Promise<number> {
  const batch = Math.max(1, Math.floor(N / 5));
  for (let i = 0; i < batch; i++) await fn();
  let best = Infinity;
  for (let b = 0; b < 5; b++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < batch; i++) await fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / batch);
  }
  return best;
}

const dir = makeAppDir(1000);
const engine = await startEngine({ dataDir: 'memory://', appDir: dir.appDir, pluginsDir: dir.pluginsDir, seed: false, watch: false, logs: new Logs({ level: 'silent' }) });
dir.remove();
const results: [string, number][] = [];
try {
  const model = engine.store.current;
  const plan = (url: string) => {
    const e = entityOf(model, 'bench_items');
    const q = parseQuery(queryPairs(url));
    parsePrefer(undefined);
    parseAccept('*/*');
    parseRange(undefined);
    const p = planRead(model, e, q, { count: 'none', limit: q.scopes.get('')!.limit ?? 1000, offset: 0 });
    return crypto.createHash('sha1').update(p.text).digest('base64url').slice(0, 20);
  };
  results.push(['parse + plan + statement name: list request', await perCall(() => plan(LIST_PATH))]);
  results.push(['parse + plan + statement name: get request', await perCall(() => plan(getPath(4242)))]);
  const listSql = planRead(model, entityOf(model, 'bench_items'), parseQuery(queryPairs(LIST_PATH)), { count: 'none', limit: 50 }).text;
  results.push(['  of which the sha1 statement name of the list SQL', await perCall(() => crypto.createHash('sha1').update(listSql).digest('base64url').slice(0, 20))]);

  const body = '[{"id":1}]';
  const plain = Fastify({ logger: false });
  plain.get('/x', async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
  await plain.ready();
  const configured = await buildServer(engine);
  configured.get('/x', async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
  await configured.ready();
  const inject = (app: FastifyInstance) => () => app.inject({ method: 'GET', url: '/x' });
  const tPlain = await perCall(inject(plain));
  const tConf = await perCall(inject(configured));
  results.push(['Fastify inject, constant handler: plain Fastify({ logger: false })', tPlain]);
  results.push(['Fastify inject, constant handler: buildServer pipeline (ids, logger, metrics hooks)', tConf]);
  results.push(['  difference: the pipeline\'s own cost per request', tConf - tPlain]);
  await plain.close();
  await configured.close();
} finally {
  await engine.close();
}

console.log(`\nCPU per request, µs (${N} iterations each, Node ${process.version}):\n`);
for (const [k, v] of results) console.log(`${v.toFixed(1).padStart(8)}  ${k}`);
