// Parses PostgREST's URL grammar into request nodes: select, filters, or/and trees, order,
// limit/offset (also per embedded relation), on_conflict and columns.
import { apiError } from '../errors.ts';
import type { Condition, FieldRef, FilterNode, FilterOp, LogicNode, OrderTerm, ReadQuery, ScopedParams, SelectItem } from './ast.ts';

const OPS = new Set<FilterOp>(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct', 'cs', 'cd', 'ov', 'fts', 'plfts', 'phfts', 'wfts']);
const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const RESERVED_LEAF = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns', 'or', 'and', 'not.or', 'not.and']);
// A cast names one type: an identifier, or one of SQL's few multi-word type names. Anything
// else ("text foo") would reach the database as a syntax error.
const CAST = /^(?:[a-z_][a-z0-9_]*|double precision|character varying|bit varying|time(?:stamp)? with(?:out)? time zone)(?:\[\])?$/;

/** Split on a separator at nesting depth 0, honouring double quotes and backslash escapes. */
export function splitTop(s: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0, quoted = false, cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < s.length) { cur += ch + s[++i]; continue; }
      if (ch === '"') quoted = false;
      cur += ch;
      continue;
    }
    if (ch === '"') { quoted = true; cur += ch; continue; }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw apiError('C100', `Unbalanced ")" in "${s}"`, { value: s });
    if (ch === sep && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (quoted) throw apiError('C100', `Unterminated double quote in "${s}"`, { value: s });
  if (depth !== 0) throw apiError('C100', `Unbalanced "(" in "${s}"`, { value: s });
  out.push(cur);
  return out;
}

export function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

export function parseField(text: string, where: string): FieldRef {
  const parts = text.split(/(->>|->)/);
  const name = parts[0].trim();
  if (!IDENT.test(name)) throw apiError('C100', `"${name}" is not a valid column name in ${where}`, { parameter: where, value: text });
  const json = [];
  for (let i = 1; i < parts.length; i += 2) {
    const key = parts[i + 1];
    if (!key) throw apiError('C100', `Empty JSON path step after "${parts[i]}" in ${where}`, { parameter: where, value: text });
    json.push({ arrow: parts[i] as '->' | '->>', key: unquote(key.replace(/^'(.*)'$/, '$1')) });
  }
  return { name, json };
}

function parseOperation(field: FieldRef, expr: string, source: string): FilterNode {
  let rest = expr, negate = false;
  if (rest.startsWith('not.')) { negate = true; rest = rest.slice(4); }
  const dot = rest.indexOf('.');
  if (dot < 0) throw apiError('C100', `Filter "${source}" needs an operator and a value, e.g. ${field.name}=eq.value`, { parameter: source });
  let opText = rest.slice(0, dot);
  const value = rest.slice(dot + 1);
  let config: string | undefined;
  const m = /^(fts|plfts|phfts|wfts)\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(opText);
  if (m) { opText = m[1]; config = m[2]; }
  if (!OPS.has(opText as FilterOp)) throw apiError('C101', `Unknown operator "${opText}" in filter "${source}"`, { parameter: source, operator: opText });
  const op = opText as FilterOp;
  if (op === 'in') {
    if (!value.startsWith('(') || !value.endsWith(')')) throw apiError('C100', `"in" takes a parenthesised list, e.g. in.(1,2,3), in filter "${source}"`, { parameter: source });
    const inner = value.slice(1, -1);
    return { kind: 'filter', field, negate, op, value: inner === '' ? [] : splitTop(inner).map(unquote), source };
  }
  if (op === 'is' && !['null', 'not_null', 'true', 'false', 'unknown'].includes(value.toLowerCase())) {
    throw apiError('C100', `"is" takes null, not_null, true, false or unknown; got "${value}" in filter "${source}"`, { parameter: source, value });
  }
  return { kind: 'filter', field, negate, op, value: unquote(value), config, source };
}

/** Parse `(a.eq.1,and(b.gt.2,c.lt.3))` */
export function parseLogic(op: 'and' | 'or', negate: boolean, text: string, source: string): LogicNode {
  if (!text.startsWith('(') || !text.endsWith(')')) throw apiError('C104', `"${source}" must be a parenthesised list, e.g. or=(a.eq.1,b.eq.2)`, { parameter: source });
  const items = splitTop(text.slice(1, -1));
  const children: Condition[] = items.map((raw) => {
    const item = raw.trim();
    const lm = /^(not\.)?(and|or)(\(.*\))$/s.exec(item);
    if (lm) return parseLogic(lm[2] as 'and' | 'or', !!lm[1], lm[3], source);
    // field[->json].op.value — the field ends at the first '.' that is not inside a json path
    const arrowEnd = item.search(/\.(not\.)?[a-z]+(\([A-Za-z_][A-Za-z0-9_]*\))?\./);
    if (arrowEnd < 0) throw apiError('C104', `"${item}" in ${source} is not column.operator.value`, { parameter: source, item });
    const field = parseField(item.slice(0, arrowEnd), source);
    return parseOperation(field, item.slice(arrowEnd + 1), source);
  });
  if (!children.length) throw apiError('C104', `"${source}" is empty`, { parameter: source });
  return { kind: 'logic', op, negate, children };
}

export function parseSelect(text: string): SelectItem[] {
  const items = splitTop(text).map((s) => s.trim()).filter((s) => s.length > 0);
  if (!items.length) throw apiError('C102', 'select is empty', { parameter: 'select' });
  return items.map((item): SelectItem => {
    if (item === '*') return { kind: 'star' };
    const paren = item.indexOf('(');
    if (paren >= 0) {
      if (!item.endsWith(')')) throw apiError('C102', `Embedded relation "${item}" must end with ")"`, { parameter: 'select', item });
      let head = item.slice(0, paren);
      const inside = item.slice(paren + 1, -1);
      let alias: string | undefined;
      const colon = head.indexOf(':');
      if (colon >= 0 && head[colon + 1] !== ':') { alias = head.slice(0, colon); head = head.slice(colon + 1); }
      const [relation, ...hints] = head.split('!');
      let inner = false, hint: string | undefined;
      for (const h of hints) {
        if (h === 'inner') inner = true;
        else if (h === 'left') inner = false;
        else if (IDENT.test(h)) hint = h;
        else throw apiError('C102', `Bad hint "!${h}" in "${item}"`, { parameter: 'select', item });
      }
      if (!IDENT.test(relation) || (alias !== undefined && !IDENT.test(alias))) throw apiError('C102', `Bad relation name in "${item}"`, { parameter: 'select', item });
      return { kind: 'embed', relation, alias, hint, inner, select: inside.trim() === '' ? [] : parseSelect(inside) };
    }
    let body = item, alias: string | undefined, cast: string | undefined;
    const castAt = body.lastIndexOf('::');
    if (castAt >= 0) { cast = body.slice(castAt + 2); body = body.slice(0, castAt); }
    const colon = body.indexOf(':');
    if (colon >= 0) { alias = body.slice(0, colon); body = body.slice(colon + 1); }
    if (alias !== undefined && !IDENT.test(alias)) throw apiError('C102', `Bad alias "${alias}" in select item "${item}"`, { parameter: 'select', item });
    if (cast !== undefined && !CAST.test(cast)) throw apiError('C102', `Bad cast "${cast}" in select item "${item}"`, { parameter: 'select', item });
    return { kind: 'field', field: parseField(body, 'select'), alias, cast };
  });
}

export function parseOrder(text: string, param: string): OrderTerm[] {
  return splitTop(text).filter((s) => s.trim()).map((raw) => {
    const parts = raw.trim().split('.');
    let nulls: 'first' | 'last' | undefined;
    let dir: 'asc' | 'desc' = 'asc';
    while (parts.length > 1) {
      const last = parts[parts.length - 1];
      if (last === 'nullsfirst') nulls = 'first';
      else if (last === 'nullslast') nulls = 'last';
      else if (last === 'asc' || last === 'desc') dir = last;
      else break;
      parts.pop();
    }
    if (parts.length !== 1) throw apiError('C103', `Bad order term "${raw}" in ${param}`, { parameter: param, term: raw });
    return { field: parseField(parts[0], param), dir, nulls };
  });
}

function parseNonNegInt(v: string, param: string): number {
  if (!/^\d{1,12}$/.test(v)) throw apiError('C107', `${param} must be a non-negative integer, got "${v}"`, { parameter: param, value: v });
  return Number(v);
}

function scope(scopes: Map<string, ScopedParams>, path: string): ScopedParams {
  let s = scopes.get(path);
  if (!s) { s = { conditions: [] }; scopes.set(path, s); }
  return s;
}

/** Parse URLSearchParams-like pairs (repeated keys allowed) into a ReadQuery. */
export function parseQuery(pairs: [string, string][]): ReadQuery {
  const q: ReadQuery = { select: [{ kind: 'star' }], scopes: new Map([['', { conditions: [] }]]) };
  for (const [key, value] of pairs) {
    if (key === 'select') { q.select = parseSelect(value); continue; }
    if (key === 'on_conflict') { q.onConflict = splitTop(value).map((c) => parseField(c.trim(), 'on_conflict').name); continue; }
    if (key === 'columns') { q.columns = splitTop(value).map((c) => parseField(c.trim(), 'columns').name); continue; }
    // Split an optional embedding path off the key: books.order, books.year, a.b.or ...
    const arrow = key.search(/->/);
    const head = arrow >= 0 ? key.slice(0, arrow) : key;
    const tail = arrow >= 0 ? key.slice(arrow) : '';
    let segs = head.split('.');
    let leaf = segs.pop()!;
    if (leaf === 'or' || leaf === 'and') {
      if (segs[segs.length - 1] === 'not') { segs.pop(); leaf = `not.${leaf}`; }
    }
    const path = segs.join('.');
    const s = scope(q.scopes, path);
    if (RESERVED_LEAF.has(leaf) && tail === '') {
      if (leaf === 'order') s.order = parseOrder(value, key);
      else if (leaf === 'limit') s.limit = parseNonNegInt(value, key);
      else if (leaf === 'offset') s.offset = parseNonNegInt(value, key);
      else if (leaf.endsWith('or') || leaf.endsWith('and')) {
        const negate = leaf.startsWith('not.');
        s.conditions.push(parseLogic(negate ? (leaf.slice(4) as 'and' | 'or') : (leaf as 'and' | 'or'), negate, value, key));
      } else throw apiError('C100', `"${key}" is not allowed inside an embedded relation`, { parameter: key });
      continue;
    }
    s.conditions.push(parseOperation(parseField(leaf + tail, key), value, `${key}=${value}`));
  }
  return q;
}
