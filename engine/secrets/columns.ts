// Where sealed values live, and the associated data that binds each one to its row. Sealing
// (the engine, on write) and rotation (rotate.ts) both build the AAD here, so they never drift.

/** A column holding sealed values; the list comes from the model, never from a request. */
export interface SecretColumn {
  schema: string;
  table: string;
  column: string;
  /** Primary-key columns, in key order. */
  key: string[];
  /** The column is jsonb holding the envelope as a JSON string (meta.system_configuration). */
  json?: boolean;
}

/** A primary-key value as PostgreSQL prints it (`value::text`); numbers and bigints are accepted. */
export type KeyValue = string | number | bigint;

/**
 * `${schema}.${table}:${column}:${pk values joined by ','}`, e.g.
 * "app.accounts:api_secret:42". A ',' or '\' inside a key value is escaped with
 * '\', so two rows of a composite key can never share an AAD ("a,b"+"c" vs "a"+"b,c"); plain
 * numeric and word keys are unchanged.
 */
export function aadFor(target: SecretColumn, row: Record<string, unknown>): string {
  if (target.key.length === 0) throw new TypeError(`secrets: ${target.schema}.${target.table} has no key columns`);
  const values = target.key.map((k) => {
    const v = row[k];
    // Dates and objects have no single text form; requiring PostgreSQL's text keeps the AAD
    // the same when the engine seals and when rotation reads the row back.
    if (typeof v === 'string' || typeof v === 'bigint' || (typeof v === 'number' && Number.isFinite(v))) {
      return String(v).replace(/[\\,]/g, '\\$&');
    }
    throw new TypeError(`secrets: key ${k} of ${target.schema}.${target.table} must be a string or number (PostgreSQL's text form), got ${v === null ? 'null' : typeof v}`);
  });
  return `${target.schema}.${target.table}:${target.column}:${values.join(',')}`;
}
