// `carry rotate-master-key`: re-wraps every sealed value from the old master key to the new one.
// Rows go in primary-key order, a batch per transaction (locked with FOR UPDATE), and only
// values still wrapped by the old key are touched. A run that stops part-way (crash, Ctrl-C,
// error) leaves every row on either key; both keys open everything, and a rerun carries on.
import { inTransaction } from '../db/tx.ts';
import type { DbClient, DbPool } from '../db/types.ts';
import { isSealed, keyIdOf, rewrap } from './envelope.ts';
import type { MasterKey } from './master-key.ts';
import { aadFor, type SecretColumn } from './columns.ts';

export { aadFor, type SecretColumn } from './columns.ts';

export interface RotateProgress {
  target: SecretColumn;
  /** Totals of this run so far, over all targets. */
  rewrapped: number;
  skipped: number;
  foreign: number;
}

export interface RotateOptions {
  /** Rows per transaction; default 500. */
  batchSize?: number;
  /** Called after each batch has committed; a throw stops the run (committed batches stay). */
  onProgress?: (p: RotateProgress) => void | Promise<void>;
}

export interface RotateResult {
  /** Values moved from `from` to `to`. */
  rewrapped: number;
  /** Values already on `to` (from an earlier, interrupted run or written since). */
  skipped: number;
  /** Non-null values wrapped by neither key, or not sealed at all: left as they are. */
  foreign: number;
}

export async function rotateMasterKey(
  db: { pool: DbPool }, targets: SecretColumn[], from: MasterKey, to: MasterKey, opts: RotateOptions = {},
): Promise<RotateResult> {
  if (from.id === to.id) throw new Error('rotate-master-key: the new master key is the same as the old one');
  const batchSize = opts.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('rotate-master-key: batchSize must be a positive integer');
  const totals: RotateResult = { rewrapped: 0, skipped: 0, foreign: 0 };
  for (const target of targets) {
    const sql = statements(target);
    let after: string[] | null = null;
    for (;;) {
      const rows = await inTransaction(db.pool, async (client) => {
        const params: unknown[] = after ? [...after, batchSize] : [batchSize];
        const { rows } = await client.query(after ? sql.selectAfter : sql.selectFirst, params);
        for (const row of rows) {
          const keys = target.key.map((_, i) => row[`k${i}`] as string);
          const value = row.v as string;
          const id = isSealed(value) ? keyIdOf(value) : null;
          if (id === to.id) { totals.skipped++; continue; }
          if (id !== from.id) { totals.foreign++; continue; }
          const aad = aadFor(target, Object.fromEntries(target.key.map((k, i) => [k, keys[i]])));
          let next: string;
          try {
            next = rewrap(value, aad, from, to);
          } catch (e) {
            // Name the row (keys are not secret) so the operator can repair or clear it; the
            // whole batch rolls back, and a rerun stops here again until it is fixed.
            (e as Error).message = `${sql.label} row (${keys.join(', ')}): ${(e as Error).message}`;
            throw e;
          }
          await client.query(sql.update, [next, ...keys]);
          totals.rewrapped++;
        }
        return rows;
      });
      if (rows.length > 0) {
        const last = rows[rows.length - 1];
        after = target.key.map((_, i) => last[`k${i}`] as string);
      }
      // Outside the transaction: a slow or failing callback never holds row locks.
      await opts.onProgress?.({ target, ...totals });
      if (rows.length < batchSize) break;
    }
  }
  return totals;
}

/** The three statements for one target; identifiers quoted, values always bound. */
function statements(t: SecretColumn) {
  if (t.key.length === 0) throw new TypeError(`rotate-master-key: ${t.schema}.${t.table} has no key columns`);
  const table = `${ident(t.schema)}.${ident(t.table)}`;
  const col = ident(t.column);
  const keys = t.key.map(ident);
  const tuple = (list: string[]) => (list.length === 1 ? list[0] : `(${list.join(', ')})`);
  const n = keys.length;
  // Key values travel as text (PostgreSQL's own form, also used in the AAD) and are cast back
  // by the comparison with the key columns.
  const pick = `SELECT ${keys.map((k, i) => `${k}::text AS "k${i}"`).join(', ')}, ${t.json ? `${col} #>> '{}'` : col} AS "v"
    FROM ${table} WHERE ${col} IS NOT NULL`;
  const tail = (limit: number) => `ORDER BY ${keys.join(', ')} LIMIT $${limit} FOR UPDATE`;
  const afterCond = `${tuple(keys)} > ${tuple(keys.map((_, i) => `$${i + 1}`))}`;
  return {
    label: `${t.schema}.${t.table}.${t.column}`,
    selectFirst: `${pick} ${tail(1)}`,
    selectAfter: `${pick} AND ${afterCond} ${tail(n + 1)}`,
    update: `UPDATE ${table} SET ${col} = ${t.json ? 'to_jsonb($1::text)' : '$1'}
      WHERE ${keys.map((k, i) => `${k} = $${i + 2}`).join(' AND ')}`,
  };
}

function ident(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\0')) throw new TypeError(`rotate-master-key: bad identifier ${JSON.stringify(name)}`);
  return '"' + name.replace(/"/g, '""') + '"';
}

