// Operations: health, readiness, Prometheus metrics, log levels applied live from
// system_configuration, and error reports reachable by URL and grouped by fingerprint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import pino from 'pino';
import { Logs } from '../../engine/ops/log.ts';
import { startTestServer, waitFor, type TestServer } from '../helpers/engine.ts';

let s: TestServer;
// Logs that follow system_configuration (not pinned), written nowhere.
const logs = new Logs({ level: 'info', destination: pino.destination('/dev/null') });
beforeAll(async () => { s = await startTestServer({ appDir: path.join(import.meta.dirname, '../fixtures/empty-app'), logs }); });
afterAll(async () => { await s?.close(); });

describe('operations endpoints', () => {
  it('answers /healthz and /readyz with the database and model state', async () => {
    const h = await s.http('/healthz');
    expect(h.status).toBe(200);
    expect((await h.json()).status).toBe('ok');
    const r = await s.http('/readyz');
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({ status: 'ready', database: process.env.DATABASE_URL ? 'postgres' : 'pglite' });
    expect(body.model_version).toBeGreaterThan(0);
    expect(body.entities).toBeGreaterThan(5);
  });

  it('exposes request counts, latencies and pool gauges as Prometheus text', async () => {
    await s.http('/api/entities');
    await s.http('/api/no_such_thing');
    const m = await s.http('/metrics');
    expect(m.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await m.text();
    expect(text).toMatch(/carry_http_requests_total\{method="GET",route="\/api\/:entity",status="200"\} \d+/);
    expect(text).toMatch(/carry_http_requests_total\{method="GET",route="\/api\/:entity",status="404"\} \d+/);
    expect(text).toMatch(/carry_http_request_duration_seconds_bucket\{le="0\.01",method="GET",route="\/api\/:entity"\} \d+/);
    expect(text).toMatch(/carry_db_pool_total \d+/);
    expect(text).toMatch(/carry_process_resident_memory_bytes \d+/);
  });

  it('echoes a valid x-request-id and makes one otherwise', async () => {
    const given = await s.http('/healthz', { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
    const made = await s.http('/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('log levels from system_configuration', () => {
  it('apply per module, live, when the row changes', async () => {
    const api = s.engine.logs.module('api');
    const before = api.level;
    await s.sql(`INSERT INTO meta.system_configuration (config_key, config_value, data_type, description)
      VALUES ('log.levels', '{"default":"warn","api":"debug"}', 'json', 'log levels per module')
      ON CONFLICT (config_key) DO UPDATE SET config_value = EXCLUDED.config_value`);
    const ms = await waitFor(() => api.level === 'debug', 3000, 10);
    expect(ms).toBeLessThan(1000);
    expect(s.engine.logs.module('db').level).toBe('warn');
    await s.sql(`UPDATE meta.system_configuration SET config_value = '{"default":"error","api":"info"}' WHERE config_key = 'log.levels'`);
    await waitFor(() => api.level === 'info' && s.engine.logs.module('db').level === 'error', 3000, 10);
    expect(before).not.toBe('debug');
  });
});

describe('error reports', () => {
  it('are stored, served as a page and as JSON, and repeats share a fingerprint', async () => {
    const first = await (await s.http('/api/entities?entity_nme=eq.x')).json();
    const second = await (await s.http('/api/entities?entity_nme=eq.y')).json();
    expect(first.error.code).toBe('C201');
    expect(first.error.url).toBe(`/_errors/${first.error.id}`);
    expect(second.error.id).not.toBe(first.error.id);

    const page = await s.http(first.error.url);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('C201');
    expect(html).toContain('entity_nme');
    expect(html).toContain('meta.entities');

    const json = await (await s.http(`${first.error.url}.json`)).json();
    expect(json).toMatchObject({ code: 'C201', status: 400, request: { method: 'GET', url: '/api/entities?entity_nme=eq.x' } });
    expect(json.definition_refs).toEqual([{ table: 'meta.entities', key: 'entities' }]);
    expect(json.repeats).toBeGreaterThanOrEqual(2);

    const recent = await (await s.http(`/_errors?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`)).json();
    const group = recent.errors.find((e: { fingerprint: string }) => e.fingerprint === json.fingerprint);
    expect(group.count).toBeGreaterThanOrEqual(2);
    expect(group.url).toMatch(/^\/_errors\/[0-9a-f-]{36}$/);
  });

  it('never leak secrets from the request into the report', async () => {
    const r = await (await s.http('/api/entities', { method: 'POST', json: { entity_name: 1, password: 'hunter2', nested: { api_key: 'sk-123' } }, headers: { cookie: 'sid=secret-cookie', authorization: 'Bearer tok' } })).json();
    const report = await (await s.http(`/_errors/${r.error.id}.json`)).text();
    expect(report).not.toContain('hunter2');
    expect(report).not.toContain('sk-123');
    expect(report).not.toContain('secret-cookie');
    expect(report).not.toContain('Bearer tok');
  });

  it('answers an unknown report id with a 404 error', async () => {
    const r = await s.http('/_errors/00000000-0000-0000-0000-000000000000', { headers: { accept: 'application/json' } });
    expect(r.status).toBe(404);
    expect((await r.json()).error.code).toBe('C901');
  });
});
