// carry start | migrate | import [dir] | export [dir] | doctor [--db] [--json] | audit verify | rotate-master-key
import path from 'node:path';
import { appPaths, dataDirOf, migrateAll, openDatabase, ROOT, startEngine } from '../engine.ts';
import { buildServer } from '../api/server.ts';
import { DEFINITION_SCHEMAS } from '../definition/seed.ts';
import { exportDefinition, importDefinition, readDefinitionDir, writeDefinitionDir } from '../definition/files.ts';
import { runDoctor, printFindings } from '../definition/doctor.ts';
import { DefinitionError } from '../definition/tables.ts';

const [cmd = 'help', ...args] = process.argv.slice(2);
const appDir = path.resolve(process.env.CARRY_APP_DIR ?? path.join(ROOT, 'app'));
const flag = (f: string) => args.includes(f);
const positional = args.filter((a) => !a.startsWith('--'));

async function start() {
  const t0 = performance.now();
  const engine = await startEngine({ appDir });
  const app = await buildServer(engine);
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen({ port, host });
  const addr = app.server.address();
  const url = typeof addr === 'object' && addr ? `http://${host}:${addr.port}` : `http://${host}:${port}`;
  engine.logs.module('engine').info({ url, database: engine.db.describe(), ready_ms: Math.round(performance.now() - t0), rss_mb: Math.round(process.memoryUsage().rss / 1e6) }, 'Carry ready');
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    engine.logs.module('engine').info({ signal: sig }, 'stopping');
    await app.close();
    await engine.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const db = await openDatabase({});
  try {
    await migrateAll(db, appDir);
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function main() {
  switch (cmd) {
    case 'start':
      return start();
    case 'migrate':
      return withDb(async () => console.log('migrations applied'));
    case 'import': {
      const dir = path.resolve(positional[0] ?? appPaths(appDir).definition);
      return withDb(async (db) => {
        const files = readDefinitionDir(dir);
        const { appendAudit } = await import('../audit/chain.ts');
        const r = await db.tx(async (c) => {
          const res = await importDefinition(c, files, DEFINITION_SCHEMAS);
          // Definition changes are audited like any other change, in the same transaction.
          await appendAudit(c, { action: 'import', entity: 'definition', details: { dir, tables: res.tables, upserted: res.upserted, deleted: res.deleted, snapshot: res.snapshot }, userAgent: 'carry import' });
          return res;
        });
        console.log(`imported ${r.tables} tables from ${dir}: ${r.upserted} rows written, ${r.deleted} removed`);
      });
    }
    case 'export': {
      const dir = path.resolve(positional[0] ?? appPaths(appDir).definition);
      return withDb(async (db) => {
        const changed = writeDefinitionDir(dir, await exportDefinition(db.pool, DEFINITION_SCHEMAS));
        console.log(changed.length ? `exported to ${dir}; changed: ${changed.join(', ')}` : `exported to ${dir}; no file changed`);
      });
    }
    case 'doctor':
      return withDb(async (db) => {
        const findings = await runDoctor(db, { definitionDir: flag('--db') ? null : appPaths(appDir).definition, pluginsDir: path.join(ROOT, 'plugins') });
        if (flag('--json')) console.log(JSON.stringify(findings, null, 2));
        else printFindings(findings);
        if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
      });
    case 'audit':
      if (positional[0] !== 'verify') { console.log('usage: carry audit verify'); process.exitCode = 2; return; }
      return withDb(async (db) => {
        const { verifyAuditChain } = await import('../audit/chain.ts');
        const r = await verifyAuditChain(db.pool);
        if (r.ok) console.log(`audit log intact: ${r.rows} rows${r.head ? `, head ${r.head.log_id} ${r.head.row_hash}` : ''}`);
        else { console.log(`audit log BROKEN at log_id ${r.firstBad!.log_id}: ${r.firstBad!.reason} (${r.rows} rows checked)`); process.exitCode = 1; }
      });
    case 'rotate-master-key':
      return withDb(async (db) => {
        const { rotateCli } = await import('../secrets/rotate-cli.ts');
        const { MasterKeys } = await import('../secrets/api.ts');
        const { loadModel } = await import('../model/introspect.ts');
        const model = await loadModel(db.pool, DEFINITION_SCHEMAS, 0);
        const keys = new MasterKeys(db, db.kind === 'pglite' ? dataDirOf({}) : null);
        await rotateCli(db, model, keys, (l) => console.log(l));
      });
    default:
      console.log('usage: carry start | migrate | import [dir] | export [dir] | doctor [--db] [--json] | audit verify | rotate-master-key');
      if (cmd !== 'help') process.exitCode = 2;
  }
}

main().catch((e) => {
  if (e instanceof DefinitionError) console.error(`definition error at ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
  else console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
