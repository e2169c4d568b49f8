// The in-memory model: the catalog (tables, views, columns, keys, relations) with the
// definition's overlay (labels, formats, exposure) and the actions. Built once, cached,
// replaced whole on reload — requests never introspect.

export type TypeClass = 'integer' | 'number' | 'boolean' | 'text' | 'uuid' | 'json' | 'timestamp' | 'date' | 'time' | 'interval' | 'array' | 'bytea' | 'other';

export interface Column {
  name: string;
  /** format_type() text, e.g. numeric(38,18), timestamp with time zone, text[] */
  sqlType: string;
  /** pg_type.typname of the base (or element) type, e.g. int8, numeric, text */
  typeName: string;
  typeClass: TypeClass;
  /** element class for arrays */
  elementClass?: TypeClass;
  nullable: boolean;
  hasDefault: boolean;
  identity: boolean;
  generated: boolean;
  position: number;
  comment: string | null;
  // overlay from meta.fields
  label: string;
  description: string | null;
  format: string | null;
  widget: string | null;
  hidden: boolean;
  readonly: boolean;
  validation: Record<string, unknown> | null;
  /** never readable by any role; sealed when written (meta.fields.secret) */
  secret: boolean;
}

export interface ForeignKey {
  name: string;
  columns: string[];
  /** entity name of the referenced table (undefined when that table is not exposed) */
  target: string;
  targetSchema: string;
  targetTable: string;
  targetColumns: string[];
}

export interface Entity {
  /** name served by the API */
  name: string;
  schema: string;
  table: string;
  kind: 'table' | 'view' | 'materialized_view' | 'foreign_table';
  comment: string | null;
  columns: Column[];
  columnsByName: Map<string, Column>;
  primaryKey: string[];
  uniqueKeys: string[][];
  foreignKeys: ForeignKey[];
  // overlay from meta.entities
  label: string;
  description: string | null;
  exposed: boolean;
  defaultOrder: string | null;
  maxRows: number | null;
  naturalKey: string[] | null;
  /** filter selecting the rows that belong to the definition (the rest are runtime data) */
  definitionFilter: string | null;
  /** in a role's view of the model: columns that exist but the role may not read */
  hiddenColumns?: Set<string>;
}

/** A relationship usable in `select=` embedding, seen from one entity. */
export interface Relationship {
  name: string; // the constraint
  /** many-to-one: this entity holds the FK; one-to-many: the other entity holds it. */
  cardinality: 'many-to-one' | 'one-to-many' | 'many-to-many';
  from: string;
  to: string;
  fromColumns: string[];
  toColumns: string[];
  /** for many-to-many: the junction entity and its two FKs */
  junction?: { entity: string; fromFk: ForeignKey; toFk: ForeignKey };
}

export interface Action {
  name: string;
  label: string;
  description: string | null;
  kind: 'sql_function' | 'plugin';
  target: string;
  paramsSchema: Record<string, unknown>;
  returns: 'json' | 'rows' | 'row' | 'none';
  permission: string | null;
  confirm: string | null;
  enabled: boolean;
}

export interface DbFunction {
  schema: string;
  name: string;
  args: { name: string; type: string; hasDefault: boolean }[];
  returnsSet: boolean;
  returnType: string;
  comment: string | null;
}

export interface Model {
  version: number;
  loadedAt: Date;
  /** every entity, exposed or not, by API name */
  entities: Map<string, Entity>;
  relationships: Map<string, Relationship[]>;
  actions: Map<string, Action>;
  /** functions in the served schemas, by schema.name (overloads are not supported) */
  functions: Map<string, DbFunction>;
  config: Map<string, unknown>;
  /** schemas served, in priority order */
  schemas: string[];
}
