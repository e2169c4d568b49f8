// Prometheus metrics: requests, latencies and the database pool.
import client from 'prom-client';
import type { DbPool } from '../db/types.ts';

export class Metrics {
  readonly registry = new client.Registry();
  readonly requests: client.Counter<'method' | 'route' | 'status'>;
  readonly latency: client.Histogram<'method' | 'route'>;
  readonly modelReloads: client.Counter;

  constructor(pool: DbPool) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'carry_' });
    this.requests = new client.Counter({ name: 'carry_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
    this.latency = new client.Histogram({
      name: 'carry_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry],
    });
    this.modelReloads = new client.Counter({ name: 'carry_model_reloads_total', help: 'Model reloads after catalog or definition changes', registers: [this.registry] });
    const gauge = (name: string, help: string, read: () => number) => new client.Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    gauge('carry_db_pool_total', 'Database connections open', () => pool.totalCount);
    gauge('carry_db_pool_idle', 'Database connections idle', () => pool.idleCount);
    gauge('carry_db_pool_waiting', 'Requests waiting for a database connection', () => pool.waitingCount);
  }
}
