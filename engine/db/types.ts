// The small part of pg.Pool the engine uses, so PostgreSQL (pg.Pool) and embedded PGlite
// (PglitePool) are one code path.
export type QueryInput = string | { text: string; values?: unknown[]; name?: string };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface QueryResultLite<R = any> { rows: R[]; rowCount: number | null }

export interface DbClient {
  query(input: QueryInput, values?: unknown[]): Promise<QueryResultLite>;
  release(err?: Error | boolean): void;
}

export interface DbPool {
  query(input: QueryInput, values?: unknown[]): Promise<QueryResultLite>;
  connect(): Promise<DbClient>;
  end(): Promise<void>;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}
