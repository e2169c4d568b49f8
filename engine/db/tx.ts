// One transaction on one checked-out client: BEGIN, fn, COMMIT — or ROLLBACK and rethrow.
// Inside fn use only the client: on PGlite the pool has a single session.
import type { DbClient, DbPool } from './types.ts';

export async function inTransaction<T>(pool: DbPool, fn: (c: DbClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
