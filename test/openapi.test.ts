// The OpenAPI document of the shipped app is valid OpenAPI 3.1 under a standard validator,
// documents every served entity with its comments, and the docs page is served locally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate, compileErrors } from '@readme/openapi-parser';
import { startTestServer, type TestServer } from './helpers/engine.ts';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => { await s?.close(); });

describe('OpenAPI', () => {
  it('is valid OpenAPI 3.1', async () => {
    const res = await s.http('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/openapi\+json/);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('documents what a visitor may read, with column comments and actions, and nothing else', async () => {
    const doc = await (await s.http('/api/openapi.json')).json();
    const view = s.engine.access.view('anonymous').model;
    const exposed = [...view.entities.values()].filter((e) => e.exposed);
    expect(exposed.map((e) => e.name)).toContain('discovered_opportunities');
    for (const e of exposed) expect(doc.paths[`/${e.name}`], e.name).toBeDefined();
    expect(doc.paths['/positions']).toBeUndefined(); // a trader's own rows: not a visitor's
    expect(doc.paths['/sessions']).toBeUndefined();
    const hidden = [...view.entities.values()].filter((e) => !e.exposed).map((e) => e.name);
    expect(hidden.length).toBeGreaterThan(0);
    for (const h of hidden) expect(doc.paths[`/${h}`], h).toBeUndefined();

    const { rows } = await s.sql(`SELECT col_description('app.discovered_opportunities'::regclass, a.attnum) AS c
      FROM pg_attribute a WHERE a.attrelid = 'app.discovered_opportunities'::regclass AND a.attname = 'calculated_apr'`);
    expect(doc.components.schemas.discovered_opportunities.properties.calculated_apr.description).toContain(rows[0].c);
    const enabled = [...view.actions.values()].filter((a) => a.enabled && (!a.permission || s.engine.access.anonymous().permissions.has(a.permission)));
    for (const a of enabled) expect(doc.paths[`/rpc/${a.name}`], a.name).toBeDefined();
    expect(doc.info.title).toMatch(/^Carry/);
    // a visitor may read opportunities but not change them: no write operations are documented
    expect(Object.keys(doc.paths['/discovered_opportunities'])).toEqual(['get']);
  });

  it('shows a signed-in role the operations its rules grant', async () => {
    const { sessionWithRole } = await import('./helpers/auth.ts');
    const { cookie } = await sessionWithRole(s, 'trader');
    const doc = await (await s.http('/api/openapi.json', { headers: { cookie } })).json();
    expect(Object.keys(doc.paths['/user_portfolios']).sort()).toEqual(['delete', 'get', 'patch', 'post']);
    expect(Object.keys(doc.paths['/positions'])).toEqual(['get']);
    expect((await validate(structuredClone(doc))).valid).toBe(true);
  });

  it('serves the interactive docs page and its assets', async () => {
    const page = await s.http('/api/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/api/docs/static/swagger-ui-bundle.js');
    const js = await s.http('/api/docs/static/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(100_000);
    const init = await (await s.http('/api/docs/init.js')).text();
    expect(init).toContain('/api/openapi.json');
  });
});
