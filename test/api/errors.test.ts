// Errors: one envelope for every failure, a 4xx that says what and where for bad input (never a
// 500, never SQL text), and a stored report at /_errors/{id} as a page and as JSON.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../engine/api/server.ts';
import type { TestServer } from '../helpers/engine.ts';
import { expectApiError, startLibrary } from '../helpers/library.ts';

let s: TestServer;
beforeAll(async () => { s = await startLibrary(); });
afterAll(async () => { await s?.close(); });

describe('model errors', () => {
  it('an unknown entity is 404 C200', async () => {
    const err = await expectApiError(await s.http('/api/bookz'), 404, 'C200');
    expect(err.details).toEqual({ entity: 'bookz' });
    await expectApiError(await s.http('/api/bookz', { method: 'POST', json: {} }), 404, 'C200');
    await expectApiError(await s.http('/api/bookz?id=eq.1', { method: 'DELETE' }), 404, 'C200');
  });

  it('an unknown column is C201 with where it was and what was meant', async () => {
    const select = await expectApiError(await s.http('/api/books?select=titel'), 400, 'C201');
    expect(select.details).toEqual({ entity: 'books', column: 'titel', location: 'select', did_you_mean: 'title' });
    expect(select.hint).toContain('Did you mean "title"?');
    const filter = await expectApiError(await s.http('/api/books?titel=eq.x'), 400, 'C201');
    expect(filter.details).toMatchObject({ location: 'titel=eq.x', did_you_mean: 'title' });
    const embedded = await expectApiError(await s.http('/api/authors?select=name,books(titel)'), 400, 'C201');
    expect(embedded.details).toMatchObject({ entity: 'books', column: 'titel' });
    const json = await expectApiError(await s.http('/api/books?select=detials->publisher'), 400, 'C201');
    expect(json.details).toMatchObject({ did_you_mean: 'details' });
  });

  it('offers no guess when nothing is close, but lists the columns', async () => {
    const err = await expectApiError(await s.http('/api/books?select=zzzzzzzz'), 400, 'C201');
    expect(err.details).not.toHaveProperty('did_you_mean');
    expect(err.hint).toContain('book_id, author_id, title');
  });
});

describe('parse errors', () => {
  it('a malformed select is C102 (or C100 for unbalanced parentheses)', async () => {
    await expectApiError(await s.http('/api/books?select='), 400, 'C102');
    await expectApiError(await s.http('/api/books?select=title::text foo'), 400, 'C102');
    await expectApiError(await s.http('/api/books?select=title,authors!bad-hint(name)'), 400, 'C102');
    await expectApiError(await s.http('/api/books?select=title,authors(name'), 400, 'C100');
    await expectApiError(await s.http('/api/books?select=ti tle'), 400, 'C100');
  });

  it('a cast to an unknown type is a 400, whatever the type is called', async () => {
    await expectApiError(await s.http('/api/books?select=title::nosuchtype'), 400, 'C300');
    await expectApiError(await s.http('/api/books?select=title::select'), 400, 'C300');
    await expectApiError(await s.http('/api/books?select=title::integer'), 400, 'C404');
  });

  it('an unknown operator is C101', async () => {
    await expectApiError(await s.http('/api/books?year=between.1.2'), 400, 'C101');
  });

  it('a malformed JSON body is C105 and an unsupported body type C108 or C303', async () => {
    const bad = await s.http('/api/books', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":' });
    const err = await expectApiError(bad, 400, 'C105');
    expect(err.message).toMatch(/not valid JSON/);
    const text = await s.http('/api/books', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<book/>' });
    await expectApiError(text, 415, 'C108');
  });

  it('a path that is no route is 404 C901', async () => {
    await expectApiError(await s.http('/api/books/1/2'), 404, 'C901');
  });
});

describe('oversized bodies', () => {
  it('are refused with 413 C106 before parsing, at the bodyLimit given to buildServer', async () => {
    const small = await buildServer(s.engine, { bodyLimit: 1024 });
    await small.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(small.server.address() as AddressInfo).port}`;
      const post = (name: string) => fetch(`${url}/api/tags`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
      await expectApiError(await post('x'.repeat(2000)), 413, 'C106');
      await expectApiError(await fetch(`${url}/api/rpc/annualise`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'y'.repeat(2000) }) }), 413, 'C106');
      expect((await post('small enough')).status).toBe(201);
    } finally {
      await small.close();
    }
  });
});

describe('bad input is never a 500 and never shows SQL', () => {
  const cases: [string, RequestInit & { json?: unknown }][] = [
    ['/api/books?select=title,authors(name', {}],
    ['/api/books?select=authors(name))', {}],
    ['/api/books?select=title:', {}],
    ['/api/books?=x', {}],
    ['/api/books?year', {}],
    ['/api/books?year=eq.', {}],
    ['/api/books?year=in.(', {}],
    ['/api/books?or=((year.eq.1)', {}],
    ['/api/books?or=(year.eq.1,)', {}],
    ['/api/books?and=(not.or(year.eq.1),or())', {}],
    ['/api/books?year=is.unknown', {}],
    ['/api/books?details=ov.{}', {}],
    ['/api/books?details->>publisher=cs.{}', {}],
    ['/api/authors?profile->99999999999=eq.1', {}],
    ['/api/books?order=details->', {}],
    ['/api/books?limit=99999999999999', {}],
    ['/api/books', { headers: { range: 'items=100000000000000000000-' } }],
    ['/api/books?book_id=eq.99999999999999999999', {}],
    ['/api/books?select=title&title=eq.%00', {}],
    ['/api/books?title=match.%5B', {}],
    ['/api/books?select=price::numeric(3,1)', {}],
    ['/api/books?select=authors!inner!left!x(name)', {}],
    ['/api/books?books.year=eq.1', {}],
    ['/api/books?select=title,authors(name)&authors.limit=1&authors.order=nme', {}],
    ['/api/books', { method: 'POST', json: { title: 'x', author_id: 'one' } }],
    ['/api/books', { method: 'POST', json: { title: 'x', author_id: 1, keywords: [['nested']] } }],
    ['/api/books', { method: 'POST', json: { title: 'x', author_id: 1, price: '1e400' } }],
    ['/api/books', { method: 'POST', json: { title: 'x', author_id: 1, year: 1e300 } }],
    ['/api/books', { method: 'POST', json: 'just a string' }],
    ['/api/books', { method: 'POST', json: null }],
    ['/api/books?on_conflict=nope', { method: 'POST', json: { title: 'x' }, headers: { prefer: 'resolution=merge-duplicates' } }],
    ['/api/books?book_id=eq.1', { method: 'PATCH', json: { book_id: 'abc' } }],
    ['/api/books?book_id=eq.1', { method: 'PATCH', json: { author_id: 12345 } }],
    ['/api/books?book_id=eq.1', { method: 'PATCH', body: 'not json', headers: { 'content-type': 'application/json' } }],
    ['/api/books?book_id=eq.1', { method: 'DELETE', headers: { prefer: 'return=everything' } }],
    ['/api/rpc/books_by_author', { method: 'POST', json: { p_author: 42 } }],
    ['/api/rpc/annualise', { method: 'POST', json: { rate_per_hour: 1e400 } }],
  ];
  it.each(cases)('%s', async (path, init) => {
    const res = await s.http(path, init);
    const text = await res.text();
    expect(res.status, text).toBeGreaterThanOrEqual(400);
    expect(res.status, text).toBeLessThan(500);
    const body = JSON.parse(text);
    expect(body.error.code).toMatch(/^C[1-6]\d\d$/);
    await expectApiError(new Response(text, { status: res.status, headers: res.headers }), res.status, body.error.code);
  });
});

describe('error reports at /_errors/{id}', () => {
  it('serve the stored report as JSON with the code and the request', async () => {
    const err = await expectApiError(await s.http('/api/books?titel=eq.x', { headers: { 'x-api-key': 'very-secret', 'x-request-id': 'req-1234' } }), 400, 'C201');
    for (const res of [await s.http(`${err.url}.json`), await s.http(err.url, { headers: { accept: 'application/json' } })]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const report = await res.json();
      expect(report).toMatchObject({
        error_id: err.id, code: 'C201', status: 400, message: err.message, details: err.details, hint: err.hint,
        request: { method: 'GET', url: '/api/books?titel=eq.x', request_id: 'req-1234' },
        role_name: 'anonymous', stack: null,
        definition_refs: [{ table: 'meta.entities', key: 'books' }],
      });
      expect(report.request.headers['x-api-key']).toBe('[redacted]');
      expect(JSON.stringify(report)).not.toContain('very-secret');
    }
  });

  it('keep the request body of a failed write, secrets redacted', async () => {
    const err = await expectApiError(await s.http('/api/books', { method: 'POST', json: { title: 'x', author_id: 1, nope: 1, password: 'hunter2' } }), 400, 'C201');
    const report = await (await s.http(`${err.url}.json`)).json();
    expect(report.request).toMatchObject({ method: 'POST', url: '/api/books', body: { title: 'x', author_id: 1, nope: 1, password: '[redacted]' } });
  });

  it('serve a page for people, with the code, message and hint escaped', async () => {
    const err = await expectApiError(await s.http('/api/books?select=<script>'), 400, 'C100');
    const res = await s.http(err.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('C100');
    expect(html).toContain(`/_errors/${err.id}.json`);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('count repeats of the same fault under one fingerprint', async () => {
    await s.http('/api/books?select=no_such_col');
    const err = await expectApiError(await s.http('/api/books?select=no_such_col'), 400, 'C201');
    const report = await (await s.http(`${err.url}.json`)).json();
    expect(report.repeats).toBeGreaterThanOrEqual(2);
    const list = await (await s.http('/_errors')).json();
    const group = list.errors.find((g: { fingerprint: string }) => g.fingerprint === report.fingerprint);
    expect(group).toMatchObject({ code: 'C201', status: 400 });
    expect(group.count).toBeGreaterThanOrEqual(2);
  });

  it('answer 404 C901 for an unknown report', async () => {
    await expectApiError(await s.http('/_errors/00000000-0000-4000-8000-000000000000'), 404, 'C901');
  });
});
