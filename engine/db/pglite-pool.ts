// The embedded database behind the same small pool interface as pg.Pool. PGlite has one
// session, so one "client" at a time: a checked-out client (a transaction) holds the session
// and every other query waits its turn. Built on PGlite's own query API: its node-postgres
// adapter loses protocol sync after an error in a parameterised query (seen with PGlite 0.5:
// the next query fails or receives the previous query's rows).
import type { PGlite } from '@electric-sql/pglite';
import type { DbClient, DbPool, QueryInput, QueryResultLite } from './types.ts';

export class PglitePool implements DbPool {
  private queue: (() => void)[] = [];
  private busy = false;
  private ended = false;

  constructor(private lite: PGlite) {}

  get totalCount() { return 1; }
  get idleCount() { return this.busy ? 0 : 1; }
  get waitingCount() { return this.queue.length; }

  private acquire(): Promise<void> {
    if (this.ended) return Promise.reject(new Error('Connection terminated: the embedded database is closed'));
    if (!this.busy) { this.busy = true; return Promise.resolve(); }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private releaseSession(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.busy = false;
  }

  private async run(input: QueryInput, values?: unknown[]): Promise<QueryResultLite> {
    const text = typeof input === 'string' ? input : input.text;
    const params = typeof input === 'string' ? values : input.values ?? values;
    if (params === undefined) {
      // No parameters: the simple protocol, which allows several statements (migrations).
      const results = await this.lite.exec(text);
      const last = results[results.length - 1];
      return { rows: last?.rows ?? [], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
    }
    const r = await this.lite.query(text, params as unknown[]);
    return { rows: r.rows as Record<string, unknown>[], rowCount: r.affectedRows ?? r.rows.length };
  }

  async query(input: QueryInput, values?: unknown[]): Promise<QueryResultLite> {
    await this.acquire();
    try {
      return await this.run(input, values);
    } finally {
      this.releaseSession();
    }
  }

  async connect(): Promise<DbClient> {
    await this.acquire();
    let released = false;
    return {
      query: (input: QueryInput, values?: unknown[]) => {
        if (released) return Promise.reject(new Error('query on a released client'));
        return this.run(input, values);
      },
      release: () => {
        if (released) return;
        released = true;
        this.releaseSession();
      },
    };
  }

  on(): this { return this; }

  async end(): Promise<void> {
    this.ended = true;
  }
}
