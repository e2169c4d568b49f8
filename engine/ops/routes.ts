// /healthz (the process answers), /readyz (database and model usable), /metrics (Prometheus).
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine.ts';
import type { Metrics } from './metrics.ts';

export function registerOps(app: FastifyInstance, engine: Engine, metrics: Metrics): void {
  app.get('/healthz', async () => ({ status: 'ok', uptime_s: Math.round(process.uptime()) }));
  app.get('/readyz', async (_req, reply) => {
    const started = performance.now();
    try {
      await engine.db.pool.query('SELECT 1');
      return {
        status: 'ready', database: engine.db.kind, db_ms: Math.round((performance.now() - started) * 100) / 100,
        model_version: engine.store.current.version, model_loaded_at: engine.store.current.loadedAt.toISOString(),
        entities: [...engine.store.current.entities.values()].filter((e) => e.exposed).length,
      };
    } catch (e) {
      return reply.code(503).send({ status: 'unavailable', database: engine.db.kind, reason: (e as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
