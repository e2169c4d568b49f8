// Filters and logic trees → SQL boolean expressions over one table alias.
import { apiError } from '../errors.ts';
import type { Condition, FieldRef, FilterNode } from '../parse/ast.ts';
import type { Column, Entity } from '../../model/types.ts';
import { ident, type Params } from './sql.ts';
import { checkText } from './values.ts';

export function suggest(name: string, options: string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const o of options) {
    const d = distance(name, o);
    if (d < bestD) { bestD = d; best = o; }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

export function column(e: Entity, name: string, where: string): Column {
  const c = e.columnsByName.get(name);
  if (!c && e.hiddenColumns?.has(name)) {
    throw apiError('C502', `Your role may not read column "${name}" of "${e.name}" (in ${where})`, { entity: e.name, column: name, location: where }, undefined, [{ table: 'meta.policies', key: e.name }]);
  }
  if (!c) {
    const guess = suggest(name, e.columns.map((x) => x.name));
    throw apiError('C201', `Column "${name}" does not exist on "${e.name}" (in ${where})`,
      { entity: e.name, column: name, location: where, ...(guess ? { did_you_mean: guess } : {}) },
      guess ? `Did you mean "${guess}"? ${e.name} has: ${e.columns.map((x) => x.name).join(', ')}.` : `${e.name} has: ${e.columns.map((x) => x.name).join(', ')}.`,
      [{ table: 'meta.entities', key: e.name }]);
  }
  return c;
}

/** SQL for a field reference with optional JSON path steps. */
export function fieldSql(e: Entity, alias: string, f: FieldRef, p: Params, where: string): { sql: string; col: Column; text: boolean; json: boolean } {
  const col = column(e, f.name, where);
  let sql = `${alias}.${ident(col.name)}`;
  if (f.json.length && col.typeClass !== 'json') {
    throw apiError('C100', `"${f.name}" is ${col.sqlType}, not json: JSON paths (->, ->>) apply to json columns only (in ${where})`, { column: f.name, location: where });
  }
  for (const step of f.json) sql += `${step.arrow}${p.add(step.key)}${/^-?\d+$/.test(step.key) ? '::int' : '::text'}`;
  const last = f.json[f.json.length - 1];
  return { sql: f.json.length ? `(${sql})` : sql, col, text: last?.arrow === '->>', json: !!last && last.arrow === '->' };
}

const CMP: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const FTS: Record<string, string> = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' };

function filterSql(e: Entity, alias: string, f: FilterNode, p: Params): string {
  const { sql: expr, col, text, json } = fieldSql(e, alias, f.field, p, f.source);
  const typed = !text && !json; // compare against the column's own type
  const scalarValue = (v: string) => {
    if (p.isVariable(v)) return p.add(v, json || text ? 'text' : col.sqlType);
    if (json) { try { JSON.parse(v); return p.add(v) + '::jsonb'; } catch { return p.add(JSON.stringify(v)) + '::jsonb'; } }
    if (typed && col.typeClass !== 'array' && col.typeClass !== 'json') checkText(col, v, f.source);
    return p.add(v, typed ? col.sqlType : 'text');
  };
  const lhs = json ? `${expr}::jsonb` : expr;
  let out: string;
  switch (f.op) {
    case 'eq': case 'neq': case 'gt': case 'gte': case 'lt': case 'lte':
      out = `${lhs} ${CMP[f.op]} ${scalarValue(f.value as string)}`;
      break;
    case 'like': case 'ilike': {
      const asText = col.typeClass === 'text' || text ? expr : `${expr}::text`;
      out = `${asText} ${f.op === 'like' ? 'LIKE' : 'ILIKE'} ${p.add((f.value as string).replace(/\*/g, '%'))}`;
      break;
    }
    case 'match': case 'imatch': {
      const asText = col.typeClass === 'text' || text ? expr : `${expr}::text`;
      out = `${asText} ${f.op === 'match' ? '~' : '~*'} ${p.add(f.value)}`;
      break;
    }
    case 'in': {
      const list = f.value as string[];
      if (!list.length) { out = 'false'; break; }
      if (typed) list.forEach((v) => { if (!p.isVariable(v)) checkText(col, v, f.source); });
      out = json ? `${lhs} = ANY(${p.add(list.map((v) => { try { JSON.parse(v); return v; } catch { return JSON.stringify(v); } }), 'jsonb[]')}::jsonb[])` : `${expr} = ANY(${p.add(list, `${typed ? col.sqlType : 'text'}[]`)})`;
      break;
    }
    case 'is': {
      const v = (f.value as string).toLowerCase();
      out = `${expr} IS ${{ null: 'NULL', not_null: 'NOT NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' }[v]}`;
      break;
    }
    case 'isdistinct':
      out = `${lhs} IS DISTINCT FROM ${scalarValue(f.value as string)}`;
      break;
    case 'cs': case 'cd': case 'ov': {
      if (col.typeClass !== 'array' && col.typeClass !== 'json' && !col.typeName.includes('range')) {
        throw apiError('C300', `"${f.op}" applies to array, range or json columns; "${col.name}" is ${col.sqlType} (in ${f.source})`, { column: col.name, location: f.source });
      }
      const op = { cs: '@>', cd: '<@', ov: '&&' }[f.op];
      out = `${expr} ${op} ${p.add(f.value)}${col.typeClass === 'json' ? '::jsonb' : ''}`;
      break;
    }
    default: {
      const fn = FTS[f.op];
      const cfg = f.config ? `${p.add(f.config)}::regconfig, ` : '';
      const vec = col.typeName === 'tsvector' ? expr : `to_tsvector(${cfg}${expr}::text)`;
      out = `${vec} @@ ${fn}(${cfg}${p.add(f.value)})`;
    }
  }
  return f.negate ? `NOT (${out})` : out;
}

export function conditionSql(e: Entity, alias: string, c: Condition, p: Params): string {
  if (c.kind === 'filter') return filterSql(e, alias, c, p);
  const parts = c.children.map((ch) => conditionSql(e, alias, ch, p));
  const joined = `(${parts.join(c.op === 'and' ? ' AND ' : ' OR ')})`;
  return c.negate ? `NOT ${joined}` : joined;
}

export function whereSql(e: Entity, alias: string, conds: Condition[], p: Params): string {
  return conds.map((c) => conditionSql(e, alias, c, p)).join(' AND ');
}
