// First start: a fresh database gets the definition from files, then (optionally) demo data.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connect.ts';
import { importDefinition, readDefinitionDir } from './files.ts';

export const DEFINITION_SCHEMAS = ['meta', 'app'];

export async function seedIfFresh(db: Db, paths: { definition: string; demo: string }, opts: { demo: boolean }): Promise<Record<string, unknown> | null> {
  const state = await db.pool.query(`SELECT state_value FROM meta.engine_state WHERE state_key = 'seeded_at'`);
  if (state.rows.length) return null;
  const files = readDefinitionDir(paths.definition);
  return db.tx(async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(7240002)');
    const again = await c.query(`SELECT 1 FROM meta.engine_state WHERE state_key = 'seeded_at'`);
    if (again.rows.length) return null; // another process seeded it meanwhile
    const result = await importDefinition(c, files, DEFINITION_SCHEMAS);
    const demoFiles: string[] = [];
    if (opts.demo && fs.existsSync(paths.demo)) {
      for (const f of fs.readdirSync(paths.demo).filter((x) => x.endsWith('.sql')).sort()) {
        try {
          await c.query(fs.readFileSync(path.join(paths.demo, f), 'utf8'));
        } catch (e) {
          throw new Error(`demo data ${path.join(paths.demo, f)} failed: ${(e as Error).message}`);
        }
        demoFiles.push(f);
      }
    }
    await c.query(`INSERT INTO meta.engine_state (state_key, state_value) VALUES ('seeded_at', to_jsonb(now()))`);
    return { tables: result.tables, rows: result.upserted, demo: demoFiles };
  });
}
