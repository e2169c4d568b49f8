// POST /api/rpc/{action}: actions are rows of meta.actions, calling a database function or a
// registered building block, with arguments checked against the row's params_schema.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Engine } from '../../engine.ts';
import type { Action, Model } from '../../model/types.ts';
import { apiError } from '../errors.ts';
import { fromDbError } from '../dberror.ts';
import { ident } from '../plan/sql.ts';
import type { AuthContext } from '../../access/sessions.ts';
import type { DbClient } from '../../db/types.ts';
import { appendAudit } from '../../audit/chain.ts';

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new WeakMap<Model, Map<string, ValidateFunction>>();

function validatorFor(model: Model, a: Action): ValidateFunction {
  let m = validators.get(model);
  if (!m) { m = new Map(); validators.set(model, m); }
  let v = m.get(a.name);
  if (!v) {
    try {
      v = ajv.compile(a.paramsSchema);
    } catch (e) {
      throw apiError('C601', `params_schema of action "${a.name}" is not a valid JSON Schema: ${(e as Error).message}`, { action: a.name }, 'Fix the row in meta.actions; carry doctor checks it.', [{ table: 'meta.actions', key: a.name }]);
    }
    m.set(a.name, v);
  }
  return v;
}

/** Every action call is audited in its own transaction, after the call, as the engine. */
function auditCall(a: Action, args: Record<string, unknown>, auth: AuthContext) {
  return async (c: DbClient) => {
    await appendAudit(c, { userId: auth.userId, roleName: auth.role, permission: a.permission, action: 'rpc', entity: `rpc/${a.name}`, details: { args } });
  };
}

export function actionOf(model: Model, name: string): Action {
  const a = model.actions.get(name);
  if (!a) throw apiError('C204', `No action "${name}"`, { action: name }, `Known actions: ${[...model.actions.keys()].join(', ') || 'none'}.`, [{ table: 'meta.actions', key: name }]);
  if (!a.enabled) throw apiError('C600', `Action "${name}" is disabled`, { action: name }, undefined, [{ table: 'meta.actions', key: name }]);
  return a;
}

async function callFunction(engine: Engine, model: Model, a: Action, args: Record<string, unknown>, auth: AuthContext): Promise<{ body: string | null }> {
  const fn = model.functions.get(a.target) ?? model.functions.get(`${model.schemas[0]}.${a.target}`);
  const refs = [{ table: 'meta.actions', key: a.name }];
  if (!fn) throw apiError('C601', `Action "${a.name}" calls function "${a.target}", which does not exist in the served schemas`, { action: a.name, target: a.target }, undefined, refs);
  const values: unknown[] = [];
  const named: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    const arg = fn.args.find((x) => x.name === k);
    if (!arg) throw apiError('C307', `Action "${a.name}" has no argument "${k}"`, { action: a.name, argument: k, arguments: fn.args.map((x) => x.name) }, undefined, refs);
    values.push(v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
    named.push(`${ident(k)} => $${values.length}::${arg.type}`);
  }
  const missing = fn.args.filter((x) => !x.hasDefault && !(x.name in args));
  if (missing.length) throw apiError('C307', `Action "${a.name}" needs argument(s) ${missing.map((m) => m.name).join(', ')}`, { action: a.name, missing: missing.map((m) => m.name) }, undefined, refs);
  const call = `${ident(fn.schema)}.${ident(fn.name)}(${named.join(', ')})`;
  const text = a.returns === 'rows' ? `SELECT coalesce(json_agg(_r), '[]')::text AS body FROM ${call} _r`
    : a.returns === 'row' ? `SELECT (SELECT row_to_json(_r) FROM ${call} _r LIMIT 1)::text AS body`
      : a.returns === 'none' ? `SELECT NULL::text AS body FROM (SELECT ${call}) _r`
        : fn.returnsSet ? `SELECT coalesce(json_agg(_r), '[]')::text AS body FROM ${call} _r` : `SELECT to_json(${call})::text AS body`;
  try {
    return (await engine.access.asRole(auth, async (c) => (await c.query(text, values)).rows[0], auditCall(a, args, auth))) ?? { body: null };
  } catch (e) {
    throw fromDbError(e, {}) ?? e;
  }
}

export function registerRpc(app: FastifyInstance, engine: Engine): void {
  app.post('/api/rpc/:name', async (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    engine.access.checkOrigin(req);
    const model = engine.access.view(req.auth.role).model;
    const a = actionOf(model, req.params.name);
    if (a.permission && !req.auth.permissions.has(a.permission)) {
      const refs = [{ table: 'meta.actions', key: a.name }];
      if (!req.auth.userId) throw apiError('C500', `Sign in to call ${a.name}`, { action: a.name, permission: a.permission }, undefined, refs);
      throw apiError('C506', `Role "${req.auth.role}" lacks permission "${a.permission}" for action ${a.name}`, { action: a.name, permission: a.permission, role: req.auth.role }, undefined, refs);
    }
    const args = (req.body ?? {}) as Record<string, unknown>;
    if (typeof args !== 'object' || Array.isArray(args)) throw apiError('C307', `Action "${a.name}" takes a JSON object of arguments`, { action: a.name });
    const validate = validatorFor(model, a);
    if (!validate(args)) {
      const errs = (validate.errors ?? []).map((e) => ({ location: `body${e.instancePath.replace(/\//g, '.')}`, message: e.message, params: e.params }));
      throw apiError('C307', `Arguments of action "${a.name}" are invalid: ${errs.map((e) => `${e.location} ${e.message}`).join('; ')}`, { action: a.name, errors: errs }, undefined, [{ table: 'meta.actions', key: a.name }]);
    }
    if (a.kind === 'sql_function') {
      const r = await callFunction(engine, model, a, args, req.auth);
      if (a.returns === 'none' || r.body === null) return reply.code(a.returns === 'none' ? 204 : 200).type('application/json').send(a.returns === 'none' ? undefined : 'null');
      return reply.type('application/json; charset=utf-8').send(r.body);
    }
    const block = engine.blocks.get(a.target);
    if (!block) throw apiError('C601', `Action "${a.name}" calls building block "${a.target}", which no plugin registers`, { action: a.name, target: a.target, known: engine.blocks.names() }, undefined, [{ table: 'meta.actions', key: a.name }]);
    const log = engine.logs.module('actions');
    const out = await engine.access.asRole(req.auth, async (client) => block.fn(args, { client, model, log, user: { id: req.auth.userId, role: req.auth.role } }), auditCall(a, args, req.auth))
      .catch((e) => { throw fromDbError(e, {}) ?? e; });
    if (a.returns === 'none') return reply.code(204).send();
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(out ?? null));
  });
}
