// The HTTP server: authenticate → parse → plan → run → respond, with one error path.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import crypto from 'node:crypto';
import type { Engine } from '../engine.ts';
import { ApiError, apiError, ERRORS } from './errors.ts';
import { fromDbError } from './dberror.ts';
import { registerResources } from './routes/resources.ts';
import { registerRpc } from './routes/rpc.ts';
import { registerDocs } from './routes/docs.ts';
import { registerErrorPages } from './routes/error-pages.ts';
import { registerOps } from '../ops/routes.ts';
import { Metrics } from '../ops/metrics.ts';

import type { AuthContext } from '../access/sessions.ts';
import { registerAuth } from '../access/routes.ts';
import { appendAuditInOwnTransaction } from '../audit/chain.ts';

declare module 'fastify' {
  interface FastifyRequest { auth: AuthContext }
}

export interface ServerOptions { bodyLimit?: number }

function toApiError(err: unknown): { api: ApiError; unexpected: boolean } {
  if (err instanceof ApiError) return { api: err, unexpected: false };
  const e = err as Error & { code?: string; statusCode?: number };
  const db = fromDbError(err);
  if (db) return { api: db, unexpected: false };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { api: apiError('C106', 'The request body is larger than the limit', {}), unexpected: false };
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { api: apiError('C108', e.message, {}), unexpected: false };
  if (e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { api: apiError('C105', 'The body is empty but Content-Type says JSON', {}), unexpected: false };
  if (e?.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return { api: apiError('C105', e.message, {}), unexpected: false };
  return { api: apiError('C900', 'Unexpected error', {}), unexpected: true };
}

export async function buildServer(engine: Engine, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const log = engine.logs.module('http');
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? Number(process.env.CARRY_BODY_LIMIT ?? 1048576),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : crypto.randomUUID();
    },
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  const metrics = new Metrics(engine.db.pool);

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/vnd.pgrst.object+json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(apiError('C105', `The body is not valid JSON: ${(e as Error).message}`, { location: 'body' }), undefined);
    }
  });

  app.decorateRequest('auth', null as unknown as AuthContext);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // Who is asking: every request looks its session up, so sign-out and revocation are immediate.
    req.auth = engine.access.anonymous();
    if (req.url.startsWith('/api') || req.url.startsWith('/auth') || req.url.startsWith('/_errors')) {
      req.auth = await engine.access.authenticate(req);
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    const lvl = reply.statusCode >= 500 ? 'error' : 'debug';
    req.log[lvl]({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
  });

  app.setErrorHandler(async (err, req, reply) => {
    const { api, unexpected } = toApiError(err);
    if (unexpected) req.log.error({ err }, 'unexpected error');
    const report = await engine.errors.record(api, requestInfo(req), unexpected ? (err as Error)?.stack ?? String(err) : null, { id: req.auth?.userId ?? null, role: req.auth?.role ?? null });
    const status = api.code === 'C203' ? 300 : ERRORS[api.code].status;
    if (ERRORS[api.code].stage === 'access' && api.code !== 'C505') {
      // Refused requests are audited too (failed sign-ins are logged by the sign-in route).
      await appendAuditInOwnTransaction(engine.db.pool, {
        userId: req.auth?.userId ?? null, roleName: req.auth?.role ?? null, action: 'refused', entity: String(api.details?.entity ?? api.details?.action ?? req.url.split('?')[0]),
        details: { code: api.code, method: req.method, path: req.url.split('?')[0], error_id: report.error_id }, requestId: req.id, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? ''),
      }).catch((e) => req.log.warn({ err: (e as Error).message }, 'refusal not audited'));
    }
    return reply.code(status).type('application/json; charset=utf-8').send({
      error: { code: api.code, message: api.message, details: api.details, hint: api.hint, id: report.error_id, url: `/_errors/${report.error_id}` },
    });
  });
  app.setNotFoundHandler(async (req) => {
    throw apiError('C901', `Nothing at ${req.method} ${req.url.split('?')[0]}`, { path: req.url.split('?')[0] });
  });

  registerOps(app, engine, metrics);
  registerAuth(app, engine);
  registerDocs(app, engine);
  registerErrorPages(app, engine);
  registerRpc(app, engine);
  registerResources(app, engine);
  engine.store.on('reload', () => metrics.modelReloads.inc());
  return app;
}

function requestInfo(req: FastifyRequest) {
  return { method: req.method, url: req.url, route: req.routeOptions?.url, headers: req.headers as Record<string, unknown>, body: req.body, requestId: req.id };
}
