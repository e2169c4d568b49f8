// The generic resource endpoints: GET/HEAD/POST/PATCH/DELETE /api/{entity}. No code per table:
// every exposed table and view of the model is served by these handlers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import crypto from 'node:crypto';
import type { Engine } from '../../engine.ts';
import { apiError } from '../errors.ts';
import { contentRange, parseAccept, parsePrefer, parseRange } from '../headers.ts';
import { parseQuery } from '../parse/query.ts';
import { entityOf, planRead } from '../plan/read.ts';
import type { AuthContext } from '../../access/sessions.ts';
import type { Verb } from '../../access/rules.ts';
import type { Entity } from '../../model/types.ts';
import type { DbClient } from '../../db/types.ts';
import { appendAudit } from '../../audit/chain.ts';
import { sealConfigRows, sealSecrets } from '../../secrets/api.ts';
import { LiteralParams } from '../../access/inline.ts';
import { planDelete, planInsert, planUpdate } from '../plan/write.ts';
import { fromDbError } from '../dberror.ts';

export function queryPairs(url: string): [string, string][] {
  const q = url.indexOf('?');
  if (q < 0) return [];
  return [...new URLSearchParams(url.slice(q + 1)).entries()];
}

interface Result { total: string | null; page: string; body: string | null; audit?: string }

/** Run one planned statement as the request's role, in a transaction. */
export async function run(engine: Engine, auth: AuthContext, text: string, values: unknown[], entity?: string, check?: (r: Result) => void,
  after?: (c: DbClient, r: Result) => Promise<void>): Promise<Result> {
  try {
    // Named statements let PostgreSQL keep the plan of each query shape per connection.
    const name = engine.db.kind === 'postgres' ? 's' + crypto.createHash('sha1').update(text).digest('base64url').slice(0, 20) : undefined;
    return await engine.access.asRole(auth, async (c) => {
      const r = (await c.query({ text, values, name })).rows[0] as Result;
      check?.(r);
      return r;
    }, after);
  } catch (e) {
    throw fromDbError(e, { entity }) ?? e;
  }
}

/** The entity as the request's role sees it, after checking the role may use it for `verb`. */
export function entityFor(engine: Engine, auth: AuthContext, name: string, verb: Verb): { e: Entity; model: Engine['store']['current'] } {
  const full = engine.store.current;
  entityOf(full, name); // unknown entities are 404 for everyone
  engine.access.require(auth, name, verb);
  const view = engine.access.view(auth.role);
  return { e: view.model.entities.get(name)!, model: view.model };
}

function pageLimit(engine: Engine, entityMax: number | null, requested: number | undefined): number {
  const cap = entityMax ?? Number(engine.store.current.config.get('api.max_rows') ?? 1000);
  if (requested !== undefined && requested > cap) {
    throw apiError('C302', `limit ${requested} is above the maximum of ${cap} rows per request`, { limit: requested, max_rows: cap });
  }
  return requested ?? cap;
}

function send(reply: FastifyReply, status: number, body: string | null, singular: boolean, page: number) {
  if (singular) {
    if (page !== 1) throw apiError('C308', `Expected exactly one row, the request matched ${page}`, { rows: page });
    return reply.code(status).type('application/vnd.pgrst.object+json; charset=utf-8').send(body!.slice(1, -1).trim());
  }
  if (body === null) return reply.code(status).send();
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

export function registerResources(app: FastifyInstance, engine: Engine): void {
  const read = async (req: FastifyRequest<{ Params: { entity: string } }>, reply: FastifyReply) => {
    const { e, model } = entityFor(engine, req.auth, req.params.entity, 'select');
    const q = parseQuery(queryPairs(req.url));
    const prefer = parsePrefer(req.headers.prefer);
    const singular = parseAccept(req.headers.accept) === 'object';
    const range = parseRange(req.headers.range as string | undefined);
    const root = q.scopes.get('')!;
    let offset = root.offset ?? range?.offset ?? 0;
    let requested = root.limit ?? range?.limit;
    if (root.limit !== undefined && range?.limit !== undefined) requested = Math.min(root.limit, range.limit);
    if (root.offset === undefined && range) offset = range.offset;
    const limit = pageLimit(engine, e.maxRows, requested);
    const count = prefer.count === 'none' ? 'none' : 'exact';
    // On PostgreSQL a read is one round trip; PGlite is in-process and keeps bound parameters.
    const oneTrip = engine.db.kind === 'postgres';
    const plan = planRead(model, e, q, { count, limit, offset }, oneTrip ? new LiteralParams() : undefined);
    const r = oneTrip
      ? await engine.access.readAsRole(req.auth, plan.text).catch((err) => { throw fromDbError(err, { entity: e.name }) ?? err; }) as unknown as Result
      : await run(engine, req.auth, plan.text, plan.values, e.name);
    const page = Number(r.page);
    const total = r.total === null ? null : Number(r.total);
    if (total !== null && offset > 0 && offset >= total && page === 0) {
      reply.header('Content-Range', `*/${total}`);
      throw apiError('C309', `Offset ${offset} is past the last row (${total} rows)`, { offset, total });
    }
    reply.header('Content-Range', contentRange(offset, page, total));
    if (count !== 'none') reply.header('Preference-Applied', `count=${prefer.count}`);
    const partial = total !== null && page < total;
    if (req.method === 'HEAD') return reply.code(partial ? 206 : 200).send();
    return send(reply, partial ? 206 : 200, r.body, singular, page);
  };
  app.get('/api/:entity', read);

  const write = (kind: 'insert' | 'update' | 'delete') => async (req: FastifyRequest<{ Params: { entity: string } }>, reply: FastifyReply) => {
    engine.access.checkOrigin(req);
    const verb: Verb = kind === 'insert' ? 'insert' : kind === 'update' ? 'update' : 'delete';
    const { e, model } = entityFor(engine, req.auth, req.params.entity, verb);
    const q = parseQuery(queryPairs(req.url));
    const prefer = parsePrefer(req.headers.prefer);
    if (prefer.resolution === 'merge-duplicates') engine.access.require(req.auth, e.name, 'update');
    const singular = parseAccept(req.headers.accept) === 'object';
    const guarded = kind === 'delete' ? req.body : guardBody(engine, req.auth, e, verb, req.body);
    const table = engine.store.current.entities.get(e.name)!;
    const body = kind === 'delete' ? guarded
      : await sealConfigRows(engine.db, engine.keys, table, verb as 'insert' | 'update', await sealSecrets(engine.db, engine.keys, table, verb as 'insert' | 'update', guarded, q), q);
    const returnRows = prefer.return === 'representation' || (prefer.return === 'headers-only' && kind === 'insert');
    const opts = { returnRows, resolution: prefer.resolution, missingDefault: prefer.missingDefault, table: engine.store.current.entities.get(e.name) };
    const plan = kind === 'insert' ? planInsert(model, e, q, body, opts)
      : kind === 'update' ? planUpdate(model, e, q, body, opts)
        : planDelete(model, e, q, opts);
    // Singular writes must change exactly one row, or nothing is changed.
    const r = await run(engine, req.auth, plan.text, plan.values, e.name, singular ? (res) => {
      if (Number(res.page) !== 1) throw apiError('C308', `Expected to change exactly one row, the request matched ${res.page}; nothing was changed`, { rows: Number(res.page) });
    } : undefined, async (c, res) => {
      // The audit row is written in the same transaction as the change, by the engine.
      if (!res.audit || Number(res.page) === 0) return;
      const a = JSON.parse(res.audit) as { keys: unknown[][]; new: unknown[] | null; old?: unknown[] | null };
      await appendAudit(c, {
        userId: req.auth.userId, roleName: req.auth.role, action: verb, entity: e.name,
        recordKey: a.keys.map((k) => k.join('/')).join(',').slice(0, 1000),
        details: { rows: Number(res.page), ...(verb === 'delete' ? { old: a.new } : verb === 'update' ? { old: a.old, new: a.new } : { new: a.new }) },
        requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? ''),
      });
    });
    const page = Number(r.page);
    reply.header('Content-Range', `${page ? `0-${page - 1}` : '*'}/${kind === 'insert' ? '*' : page}`);
    if (prefer.resolution) reply.header('Preference-Applied', `resolution=${prefer.resolution}`);
    if (prefer.return === 'headers-only' && kind === 'insert' && r.body) {
      const rows = JSON.parse(r.body) as Record<string, unknown>[];
      if (rows.length === 1 && e.primaryKey.length) {
        reply.header('Location', `/api/${e.name}?${e.primaryKey.map((k) => `${k}=eq.${encodeURIComponent(String(rows[0][k]))}`).join('&')}`);
      }
      return reply.code(201).send();
    }
    const status = kind === 'insert' ? 201 : prefer.return === 'representation' ? 200 : 204;
    if (prefer.return !== 'representation') return reply.code(status).send();
    return send(reply, status, r.body, singular, page);
  };
  app.post('/api/:entity', write('insert'));
  app.patch('/api/:entity', write('update'));
  app.delete('/api/:entity', write('delete'));
}

/**
 * Columns the role may write, and owner columns filled from the session: a body naming a
 * column the rules do not grant is refused, and an owner column must be absent or the caller.
 */
function guardBody(engine: Engine, auth: AuthContext, e: Entity, verb: Verb, body: unknown): unknown {
  const g = engine.access.view(auth.role).grants.get(e.name);
  const allowed = g?.columns.get(verb);
  const rows = Array.isArray(body) ? body : [body];
  const owners = [...(g?.ownerColumns ?? [])];
  const out = rows.map((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) return row;
    const copy = { ...(row as Record<string, unknown>) };
    for (const k of Object.keys(copy)) {
      if (allowed && !allowed.has(k) && !owners.includes(k)) {
        throw apiError('C502', `Your role may not write column "${k}" of "${e.name}"`, { entity: e.name, column: k, location: Array.isArray(body) ? `body[${i}].${k}` : `body.${k}` }, undefined, [{ table: 'meta.policies', key: e.name }]);
      }
    }
    for (const col of owners) {
      if (col in copy && String(copy[col]) !== String(auth.userId)) {
        throw apiError('C503', `"${col}" of "${e.name}" is set from your session and cannot be given another value`, { entity: e.name, column: col }, undefined, [{ table: 'meta.policies', key: e.name }]);
      }
      if (verb === 'insert' && auth.userId) copy[col] = auth.userId;
    }
    return copy;
  });
  return Array.isArray(body) ? out : out[0];
}
