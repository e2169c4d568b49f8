// OpenAPI 3.1 from the model: one path per served entity and per action; comments become
// descriptions. Built once per model version.
import type { Column, Entity, Model } from '../model/types.ts';

type Schema = Record<string, unknown>;

function columnSchema(c: Column): Schema {
  const base = (cls: string | undefined): Schema => {
    switch (cls) {
      case 'integer': return c.typeName === 'int8' ? { type: 'integer', format: 'int64' } : { type: 'integer' };
      case 'number': return c.typeName === 'numeric' ? { type: ['number', 'string'], description: 'exact decimal' } : { type: 'number' };
      case 'boolean': return { type: 'boolean' };
      case 'uuid': return { type: 'string', format: 'uuid' };
      case 'timestamp': return { type: 'string', format: 'date-time' };
      case 'date': return { type: 'string', format: 'date' };
      case 'json': return {};
      default: return { type: 'string' };
    }
  };
  let s: Schema = c.typeClass === 'array' ? { type: 'array', items: base(c.elementClass) } : base(c.typeClass);
  if (c.nullable && s.type) s = { ...s, type: [...(Array.isArray(s.type) ? s.type : [s.type]), 'null'] };
  const desc = [c.description, `(${c.sqlType})`].filter(Boolean).join(' ');
  return { ...s, description: desc, ...(c.identity || c.generated || c.readonly ? { readOnly: true } : {}), ...(c.hasDefault ? {} : {}) };
}

function entitySchema(e: Entity): Schema {
  return {
    type: 'object',
    description: e.description ?? undefined,
    properties: Object.fromEntries(e.columns.map((c) => [c.name, columnSchema(c)])),
    required: e.columns.filter((c) => !c.nullable && !c.hasDefault && !c.generated).map((c) => c.name),
  };
}

const ref = (name: string) => ({ $ref: `#/components/parameters/${name}` });

export interface OpenApiOptions {
  title: string;
  version: string;
  /** verbs the reader may use on an entity (all when omitted) */
  verbs?: (entity: string) => Set<'select' | 'insert' | 'update' | 'delete'>;
  /** whether the reader may call an action (all enabled when omitted) */
  canCall?: (permission: string | null) => boolean;
}

export function buildOpenApi(model: Model, opts: OpenApiOptions): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, Schema> = {};
  const entities = [...model.entities.values()].filter((e) => e.exposed).sort((a, b) => a.name.localeCompare(b.name));
  const errorResponse = { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  for (const e of entities) {
    const key = e.name.replace(/[^A-Za-z0-9_.-]/g, '_');
    schemas[key] = entitySchema(e);
    const rowRef = { $ref: `#/components/schemas/${key}` };
    const filters = e.columns.map((c) => ({
      name: c.name, in: 'query', required: false,
      description: `Filter on ${c.name}: operator.value, e.g. eq.x, gt.1, in.(a,b), is.null, not.eq.x. ${c.description ?? ''}`.trim(),
      schema: { type: 'string' },
    }));
    const list = { description: 'Rows', content: { 'application/json': { schema: { type: 'array', items: rowRef } } } };
    const tag = e.schema;
    const ops: Record<string, unknown> = {
      get: {
        operationId: `list_${key}`, tags: [tag], summary: `List ${e.label}`, description: e.description ?? undefined,
        parameters: [ref('select'), ref('order'), ref('limit'), ref('offset'), ref('range'), ref('preferRead'), ref('or'), ...filters],
        responses: { 200: list, 206: list, default: errorResponse },
      },
    };
    const verbs = opts.verbs?.(e.name);
    if (verbs && !verbs.has('select')) delete ops.get;
    if (e.kind === 'table' || e.kind === 'view') {
      const body = { required: true, content: { 'application/json': { schema: { oneOf: [rowRef, { type: 'array', items: rowRef }] } } } };
      ops.post = { operationId: `create_${key}`, tags: [tag], summary: `Create ${e.label}`, parameters: [ref('select'), ref('preferWrite'), ref('onConflict'), ref('columns')], requestBody: body, responses: { 201: list, default: errorResponse } };
      ops.patch = { operationId: `update_${key}`, tags: [tag], summary: `Update ${e.label} matching the filters`, parameters: [ref('select'), ref('preferWrite'), ...filters], requestBody: { required: true, content: { 'application/json': { schema: rowRef } } }, responses: { 200: list, 204: { description: 'Updated' }, default: errorResponse } };
      ops.delete = { operationId: `delete_${key}`, tags: [tag], summary: `Delete ${e.label} matching the filters`, parameters: [ref('select'), ref('preferWrite'), ...filters], responses: { 200: list, 204: { description: 'Deleted' }, default: errorResponse } };
    }
    if (verbs) for (const [m, v] of [['post', 'insert'], ['patch', 'update'], ['delete', 'delete']] as const) if (!verbs.has(v)) delete ops[m];
    if (Object.keys(ops).length) paths[`/${e.name}`] = ops;
  }
  for (const a of [...model.actions.values()].filter((x) => x.enabled && (!opts.canCall || opts.canCall(x.permission)))) {
    paths[`/rpc/${a.name}`] = {
      post: {
        operationId: `rpc_${a.name}`, tags: ['actions'], summary: a.label, description: a.description ?? undefined,
        requestBody: { required: false, content: { 'application/json': { schema: a.paramsSchema } } },
        responses: { 200: { description: 'Result', content: { 'application/json': { schema: {} } } }, 204: { description: 'Done' }, default: errorResponse },
      },
    };
  }
  const q = (name: string, description: string, example?: string) => ({ name, in: 'query', required: false, description, schema: { type: 'string' }, ...(example ? { example } : {}) });
  return {
    openapi: '3.1.0',
    info: { title: opts.title, version: opts.version, description: 'Generated from the database: every served table, view and action. Query grammar as PostgREST.' },
    servers: [{ url: '/api' }],
    paths,
    components: {
      schemas: {
        ...schemas,
        Error: {
          type: 'object', required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message', 'id', 'url'], properties: {
            code: { type: 'string' }, message: { type: 'string' }, details: { type: ['object', 'null'] }, hint: { type: ['string', 'null'] }, id: { type: 'string' }, url: { type: 'string' },
          } } },
        },
      },
      parameters: {
        select: q('select', 'Columns and embedded relations: id,status,alias:column,children(id,name)', 'id'),
        order: q('order', 'column.asc|desc[.nullsfirst|nullslast], comma separated'),
        limit: { ...q('limit', 'Rows per page, at most api.max_rows'), schema: { type: 'integer', minimum: 0 } },
        offset: { ...q('offset', 'Rows to skip'), schema: { type: 'integer', minimum: 0 } },
        or: q('or', 'Any of the filters: or=(a.eq.1,b.gt.2)'),
        onConflict: q('on_conflict', 'Unique columns for an upsert'),
        columns: q('columns', 'Columns to take from the body'),
        range: { name: 'Range', in: 'header', required: false, description: 'items=from-to', schema: { type: 'string' } },
        preferRead: { name: 'Prefer', in: 'header', required: false, description: 'count=exact', schema: { type: 'string' } },
        preferWrite: { name: 'Prefer', in: 'header', required: false, description: 'return=representation|minimal|headers-only, resolution=merge-duplicates|ignore-duplicates, missing=default', schema: { type: 'string' } },
      },
    },
  };
}
