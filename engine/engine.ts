// Boots the engine: database, migrations, first-start seeding, model, building blocks.
// The app folder (schema, definition, demo data) is a parameter: the engine names no app table.
import path from 'node:path';
import fs from 'node:fs';
import { connect, type Db } from './db/connect.ts';
import { engineMigrationsDir, migrate } from './db/migrate.ts';
import { ModelStore } from './model/store.ts';
import { Logs } from './ops/log.ts';
import { BlockRegistry, type PluginModule } from './actions/registry.ts';
import { ErrorReports } from './audit/error-reports.ts';
import { seedIfFresh } from './definition/seed.ts';
import { Access } from './access/access.ts';
import { MasterKeys } from './secrets/api.ts';

export interface EngineOptions {
  databaseUrl?: string;
  dataDir?: string;
  appDir?: string;
  pluginsDir?: string;
  /** seed definition and demo data on a fresh database (default true) */
  seed?: boolean;
  demo?: boolean;
  logs?: Logs;
  loadDataDir?: Blob;
  poolSize?: number;
  /** watch for catalog/definition changes (default true) */
  watch?: boolean;
}

export interface Engine {
  db: Db;
  store: ModelStore;
  logs: Logs;
  blocks: BlockRegistry;
  errors: ErrorReports;
  access: Access;
  keys: MasterKeys;
  appDir: string;
  startedAt: Date;
  close(): Promise<void>;
}

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export function appPaths(appDir: string) {
  return { schema: path.join(appDir, 'schema'), definition: path.join(appDir, 'definition'), demo: path.join(appDir, 'demo') };
}

export async function loadPlugins(dir: string, registry: BlockRegistry): Promise<void> {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir).sort()) {
    const entry = path.join(dir, name, 'index.ts');
    if (!fs.existsSync(entry)) continue;
    const mod = (await import(entry)) as PluginModule;
    if (typeof mod.register === 'function') mod.register(registry);
  }
}

export function dataDirOf(opts: EngineOptions): string {
  return opts.dataDir ?? process.env.CARRY_DATA_DIR ?? path.join(process.cwd(), 'data');
}

export async function openDatabase(opts: EngineOptions): Promise<Db> {
  return connect({
    databaseUrl: opts.databaseUrl ?? process.env.DATABASE_URL,
    dataDir: dataDirOf(opts),
    loadDataDir: opts.loadDataDir,
    poolSize: opts.poolSize,
  });
}

export async function migrateAll(db: Db, appDir: string) {
  return migrate(db, [
    { scope: 'meta', dir: engineMigrationsDir() },
    { scope: 'app', dir: appPaths(appDir).schema },
  ]);
}

export async function startEngine(opts: EngineOptions = {}): Promise<Engine> {
  const logs = opts.logs ?? new Logs();
  const log = logs.module('engine');
  const appDir = path.resolve(opts.appDir ?? process.env.CARRY_APP_DIR ?? path.join(ROOT, 'app'));
  const db = await openDatabase(opts);
  try {
    const applied = await migrateAll(db, appDir);
    if (applied.length) log.info({ applied: applied.map((a) => `${a.scope}/${a.name}`) }, 'migrations applied');
    if (opts.seed !== false) {
      const seeded = await seedIfFresh(db, appPaths(appDir), { demo: opts.demo ?? process.env.CARRY_DEMO !== 'false' });
      if (seeded) log.info(seeded, 'fresh database seeded from the definition');
    }
    const store = new ModelStore(db, { schemas: (process.env.CARRY_SCHEMAS ?? 'app,meta').split(',').map((s) => s.trim()) });
    store.on('error', (e) => logs.module('model').error({ err: e }, 'model reload failed; keeping the previous model'));
    store.on('reload', (m) => logs.apply(m.config.get('log.levels')));
    await store.load();
    const access = new Access(db, () => store.current, logs.module('access'));
    await access.refresh();
    // Rules follow the definition: reinstalled (when changed) after every model reload.
    store.on('reload', () => { access.refresh().catch((e) => logs.module('access').error({ err: e }, 'access rules not installed; keeping the previous ones')); });
    if (opts.watch !== false) await store.watch();
    const blocks = new BlockRegistry();
    await loadPlugins(path.resolve(opts.pluginsDir ?? path.join(ROOT, 'plugins')), blocks);
    const errors = new ErrorReports(db, logs.module('errors'));
    return {
      db, store, logs, blocks, errors, access, appDir, startedAt: new Date(),
      keys: new MasterKeys(db, db.kind === 'pglite' && !db.describe().includes('in memory') ? dataDirOf(opts) : null),
      async close() {
        await store.close();
        await db.close();
      },
    };
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
}
