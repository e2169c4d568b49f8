// Stored filters (row rules) compiled to SQL with their values inlined as literals, because
// row-level-security policies cannot take bind parameters. $variables read the request's
// transaction-local settings, so one policy serves every user.
import { Params } from '../api/plan/sql.ts';
import { apiError } from '../api/errors.ts';

export const VARIABLE = /^\$(user\.[a-z_]+|route\.[a-z_]+|row\.[a-z_]+|now(?:([+-])(\d+)([smhdw]))?)$/;
const UNITS: Record<string, string> = { s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'weeks' };

/** The transaction-local setting that carries a $user field, e.g. request.user.id */
export function userSetting(field: string): string {
  return `request.user.${field}`;
}

export function literal(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s.includes('\u0000')) throw apiError('C300', 'A filter value contains a NUL character', {});
  return `'${s.replace(/'/g, "''")}'`;
}

/** An array as PostgreSQL's array text ({"a","b"}), then quoted as one string literal. */
function arrayLiteral(list: unknown[]): string {
  return literal(`{${list.map((x) => `"${String(x).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`);
}

export class InlineParams extends Params {
  isVariable(v: string): boolean {
    return typeof v === 'string' && v.startsWith('$');
  }

  add(v: unknown, sqlType?: string): string {
    const cast = sqlType && sqlType !== 'text' ? `::${sqlType}` : '';
    if (Array.isArray(v)) {
      if (v.some((x) => this.isVariable(String(x)))) {
        return `ARRAY[${v.map((x) => this.add(x, sqlType?.replace(/\[\]$/, ''))).join(', ')}]`;
      }
      return arrayLiteral(v) + cast;
    }
    if (typeof v === 'string' && this.isVariable(v)) {
      const m = VARIABLE.exec(v);
      if (!m) throw apiError('C100', `Unknown variable "${v}": use $user.<field>, $now or $now-7d in row rules`, { value: v });
      if (m[1].startsWith('now')) {
        return m[2] ? `(now() ${m[2]} interval '${Number(m[3])} ${UNITS[m[4]]}')` : 'now()';
      }
      if (!m[1].startsWith('user.')) throw apiError('C100', `"${v}" cannot be used in a row rule: only $user and $now are known when the database checks rows`, { value: v });
      return `(nullif(current_setting(${literal(userSetting(m[1].slice(5)))}, true), ''))${cast}`;
    }
    return literal(v);
  }
}

/** Request values as quoted literals (never variables), for statements sent in one round trip. */
export class LiteralParams extends InlineParams {
  isVariable(): boolean {
    return false;
  }
}
