// Holds the current Model and replaces it when the catalog or a definition table changes:
// NOTIFY carry_model (from triggers and the DDL event trigger) when available, otherwise a
// cheap catalog fingerprint polled every second.
import { EventEmitter } from 'node:events';
import type { Db } from '../db/connect.ts';
import { loadModel } from './introspect.ts';
import type { Model } from './types.ts';

export interface ModelStoreOptions { schemas: string[]; debounceMs?: number; pollMs?: number }

const FINGERPRINT_SQL = `SELECT md5(coalesce(string_agg(c.oid::text || ':' || c.relname || ':' || a.attname || ':' || a.atttypid::text || ':' || a.attnotnull::text, ',' ORDER BY c.oid, a.attnum), '')) AS f
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r','v','m','p','f')`;

export class ModelStore extends EventEmitter {
  current!: Model;
  private version = 0;
  private timer: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private reloading: Promise<void> | null = null;
  private again = false;
  private fingerprint = '';

  constructor(private db: Db, private opts: ModelStoreOptions) { super(); }

  async load(): Promise<Model> {
    this.current = await loadModel(this.db.pool, this.opts.schemas, ++this.version);
    this.emit('reload', this.current);
    return this.current;
  }

  /** Start watching for changes. */
  async watch(): Promise<void> {
    this.unlisten = await this.db.listen('carry_model', () => this.schedule());
    const evt = await this.db.pool.query(`SELECT count(*)::int AS n FROM pg_event_trigger WHERE evtname = 'carry_ddl_end' AND evtenabled <> 'D'`);
    if (evt.rows[0].n === 0) {
      // No event trigger (not a superuser): notice DDL by polling a catalog fingerprint.
      this.fingerprint = await this.catalogFingerprint();
      this.poll = setInterval(async () => {
        try {
          const f = await this.catalogFingerprint();
          if (f !== this.fingerprint) { this.fingerprint = f; this.schedule(); }
        } catch { /* database briefly unavailable; next tick retries */ }
      }, this.opts.pollMs ?? 1000);
      this.poll.unref();
    }
  }

  private async catalogFingerprint(): Promise<string> {
    return (await this.db.pool.query(FINGERPRINT_SQL, [this.opts.schemas])).rows[0].f;
  }

  /** Debounced reload; a burst of DDL or definition writes reloads once. */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload();
    }, this.opts.debounceMs ?? 50);
  }

  async reload(): Promise<void> {
    if (this.reloading) { this.again = true; return this.reloading; }
    this.reloading = (async () => {
      try {
        await this.load();
      } catch (e) {
        this.emit('error', e);
      } finally {
        this.reloading = null;
        if (this.again) { this.again = false; this.schedule(); }
      }
    })();
    return this.reloading;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    if (this.unlisten) await this.unlisten();
  }
}
