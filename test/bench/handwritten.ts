// The baseline: what a developer would write by hand for exactly these two requests — a plain
// Fastify 5 route, fixed SQL, bound parameters, the JSON body built by PostgreSQL (json_agg, as
// the generic engine does, so both bodies are byte-identical), named prepared statements on
// PostgreSQL. No auth, no metrics, no request ids: the cheapest reasonable handler.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ENTITY } from './fixture.ts';

export const LIST_SQL = `SELECT coalesce(json_agg(r), '[]')::text AS body FROM (
  SELECT id, name, price, status FROM app.${ENTITY}
  WHERE status = $1 AND price > $2 ORDER BY price DESC LIMIT $3) r`;

export const GET_SQL = `SELECT coalesce(json_agg(r), '[]')::text AS body FROM (
  SELECT id, name, category, price, created_at, status, qty FROM app.${ENTITY} WHERE id = $1) r`;

const INT = /^\d{1,18}$/;
const NUM = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function op(v: unknown, prefix: string): string | undefined {
  return typeof v === 'string' && v.startsWith(prefix) ? v.slice(prefix.length) : undefined;
}

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
/** What the handler needs of a pool: pg.Pool, or the engine's own pool (PGlite has one session). */
export interface QueryPool { query(q: { text: string; values: unknown[]; name?: string }): Promise<{ rows: Record<string, unknown>[] }> }

/** The hand-written route handler. named: use named (server-side prepared) statements — PostgreSQL only, as the engine does. */
export function handwrittenHandler(pool: QueryPool, named: boolean): Handler {
  const bad = (reply: FastifyReply, message: string) => reply.code(400).send({ error: { code: 'bad_request', message } });
  return async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    let text: string, values: unknown[], name: string | undefined;
    if (q.id !== undefined) {
      const id = op(q.id, 'eq.');
      if (!id || !INT.test(id)) return bad(reply, 'id must be eq.<integer>');
      text = GET_SQL; values = [id]; name = named ? 'bench_get' : undefined;
    } else {
      const status = op(q.status, 'eq.');
      const minPrice = op(q.price, 'gt.');
      const limit = q.limit === undefined ? 1000 : Number(q.limit);
      if (status === undefined) return bad(reply, 'status must be eq.<text>');
      if (minPrice === undefined || !NUM.test(minPrice)) return bad(reply, 'price must be gt.<number>');
      if (!Number.isInteger(limit) || limit < 0 || limit > 1000) return bad(reply, 'limit must be 0..1000');
      if (q.order !== undefined && q.order !== 'price.desc') return bad(reply, 'only order=price.desc');
      text = LIST_SQL; values = [status, minPrice, limit]; name = named ? 'bench_list' : undefined;
    }
    const res = await pool.query({ text, values, name });
    return reply.type('application/json; charset=utf-8').send(res.rows[0].body as string);
  };
}

/** The baseline server: a plain Fastify instance with only this route. */
export async function buildHandwritten(pool: QueryPool, named: boolean): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get(`/api/${ENTITY}`, handwrittenHandler(pool, named));
  return app;
}
