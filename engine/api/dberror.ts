// Turns PostgreSQL errors into registry errors that say what and where — never SQL text.
import { ApiError, apiError } from './errors.ts';

interface PgError extends Error {
  code?: string; detail?: string; constraint?: string; column?: string; table?: string; schema?: string; hint?: string;
}

const CONNECTION = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006']);

export function fromDbError(err: unknown, context: { entity?: string } = {}): ApiError | null {
  const e = err as PgError;
  if (!e || typeof e !== 'object') return null;
  if (e instanceof ApiError) return e;
  const code = e.code ?? '';
  const where = { entity: context.entity ?? (e.table ? `${e.table}` : undefined), constraint: e.constraint, column: e.column, detail: e.detail };
  const clean = Object.fromEntries(Object.entries(where).filter(([, v]) => v !== undefined)) as Record<string, unknown>;
  if (CONNECTION.has(code) || /Connection terminated|connect ECONNREFUSED/.test(e.message)) {
    return apiError('C405', 'The database is unavailable', {});
  }
  switch (code) {
    case '23505': return apiError('C400', `A row with this key already exists${e.constraint ? ` (${e.constraint})` : ''}`, clean);
    case '23001': // PostgreSQL 18 reports ON DELETE RESTRICT as restrict_violation
    case '23503': return apiError('C401', `Foreign key ${e.constraint ?? ''} violated: ${e.detail ?? 'the referenced row does not exist or is still referenced'}`, clean);
    case '23502': return apiError('C402', `Column "${e.column}" needs a value`, clean);
    case '23514': return apiError('C403', `Check constraint "${e.constraint}" refused the row`, clean);
    case '23P01': return apiError('C403', `Exclusion constraint "${e.constraint}" refused the row`, clean);
    case '57014': return apiError('C406', 'The statement took too long and was cancelled', clean);
    case '42501': return apiError('C407', e.message, clean);
    case '55000': if (/cannot (insert into|update|delete from) (view|column)/i.test(e.message)) return apiError('C305', e.message, clean); break;
    case '428C9': return apiError('C304', e.message, clean); // a GENERATED ALWAYS column
    case '42601': if (/tsquery/i.test(e.message)) return apiError('C300', `Malformed text search query: ${e.message}`, clean); break;
    case '42704': return apiError('C300', e.message, clean); // unknown type in a cast
    case '42883': return apiError('C300', `Operator or function does not exist for these types: ${e.message}`, clean);
    case '42804': return apiError('C300', e.message, clean);
  }
  if (code.startsWith('22')) return apiError('C404', e.message, clean);
  if (code === '2201W' || code === '2201X') return apiError('C107', e.message, clean);
  return null;
}
