// Small immutable request nodes with a `kind` tag, produced by the parser and consumed by
// the planner. Nothing here knows SQL.

export interface JsonStep { arrow: '->' | '->>'; key: string }
export interface FieldRef { name: string; json: JsonStep[] }

export type FilterOp =
  | 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'like' | 'ilike' | 'match' | 'imatch'
  | 'in' | 'is' | 'isdistinct' | 'cs' | 'cd' | 'ov' | 'fts' | 'plfts' | 'phfts' | 'wfts';

export interface FilterNode {
  kind: 'filter';
  field: FieldRef;
  negate: boolean;
  op: FilterOp;
  /** list for `in`, text otherwise */
  value: string | string[];
  /** text search configuration for fts operators */
  config?: string;
  /** where it came from, for error messages */
  source: string;
}

export interface LogicNode {
  kind: 'logic';
  op: 'and' | 'or';
  negate: boolean;
  children: Condition[];
}

export type Condition = FilterNode | LogicNode;

export interface FieldItem { kind: 'field'; field: FieldRef; alias?: string; cast?: string }
export interface StarItem { kind: 'star' }
export interface EmbedItem {
  kind: 'embed';
  relation: string;
  alias?: string;
  hint?: string;
  inner: boolean;
  select: SelectItem[];
}
export type SelectItem = FieldItem | StarItem | EmbedItem;

export interface OrderTerm { field: FieldRef; dir: 'asc' | 'desc'; nulls?: 'first' | 'last' }

/** Per embedding path ('' = the root), the filters, order and paging that apply there. */
export interface ScopedParams {
  conditions: Condition[];
  order?: OrderTerm[];
  limit?: number;
  offset?: number;
}

export interface ReadQuery {
  select: SelectItem[];
  scopes: Map<string, ScopedParams>;
  onConflict?: string[];
  columns?: string[];
}
