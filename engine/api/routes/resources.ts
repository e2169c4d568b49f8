// The generic resource endpoints: GET/HEAD/POST/PATCH/DELETE /api/{entity}. No code per table:
// every exposed table and view of the model is served by these handlers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import crypto from 'node:crypto';
import type { Engine } from '../../engine.ts';
import { apiError } from '../errors.ts';
import { contentRange, parseAccept, parsePrefer, parseRange } from '../headers.ts';
import { parseQuery } from '../parse/query.ts';
import { entityOf, planRead } from '../plan/read.ts';
import { planDelete, planInsert, planUpdate } from '../plan/write.ts';
import { fromDbError } from '../dberror.ts';

export function queryPairs(url: string): [string, string][] {
  const q = url.indexOf('?');
  if (q < 0) return [];
  return [...new URLSearchParams(url.slice(q + 1)).entries()];
}

interface Result { total: string | null; page: string; body: string | null }

export async function run(engine: Engine, text: string, values: unknown[], entity?: string): Promise<Result> {
  try {
    // Named statements let PostgreSQL keep the plan of each query shape per connection.
    const name = engine.db.kind === 'postgres' ? 's' + crypto.createHash('sha1').update(text).digest('base64url').slice(0, 20) : undefined;
    const res = await engine.db.pool.query({ text, values, name });
    return res.rows[0] as Result;
  } catch (e) {
    throw fromDbError(e, { entity }) ?? e;
  }
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
    const model = engine.store.current;
    const e = entityOf(model, req.params.entity);
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
    const plan = planRead(model, e, q, { count, limit, offset });
    const r = await run(engine, plan.text, plan.values, e.name);
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
    const model = engine.store.current;
    const e = entityOf(model, req.params.entity);
    const q = parseQuery(queryPairs(req.url));
    const prefer = parsePrefer(req.headers.prefer);
    const singular = parseAccept(req.headers.accept) === 'object';
    const returnRows = prefer.return === 'representation' || (prefer.return === 'headers-only' && kind === 'insert');
    const opts = { returnRows, resolution: prefer.resolution, missingDefault: prefer.missingDefault };
    const plan = kind === 'insert' ? planInsert(model, e, q, req.body, opts)
      : kind === 'update' ? planUpdate(model, e, q, req.body, opts)
        : planDelete(model, e, q, opts);
    const r = singular
      ? await engine.db.tx(async (c) => {
        // Singular writes must change exactly one row, or nothing is changed.
        const res = (await c.query(plan.text, plan.values)).rows[0] as Result;
        if (Number(res.page) !== 1) throw apiError('C308', `Expected to change exactly one row, the request matched ${res.page}; nothing was changed`, { rows: Number(res.page) });
        return res;
      }).catch((err) => { throw fromDbError(err, { entity: e.name }) ?? err; })
      : await run(engine, plan.text, plan.values, e.name);
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
