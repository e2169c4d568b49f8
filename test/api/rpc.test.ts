// Actions at POST /api/rpc/{name}: rows of meta.actions calling a database function with named
// arguments or a building block registered by a plugin, arguments checked against params_schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type TestServer } from '../helpers/engine.ts';
import { expectApiError, pluck, startLibrary } from '../helpers/library.ts';

let s: TestServer;
beforeAll(async () => { s = await startLibrary(); });
afterAll(async () => { await s?.close(); });

const call = (name: string, json?: unknown) => s.http(`/api/rpc/${name}`, { method: 'POST', json });

describe('sql_function actions', () => {
  it('call the function with named arguments and answer its rows', async () => {
    const res = await call('books_by_author', { p_author: 'Italo Calvino' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const rows = await res.json();
    expect(pluck(rows, 'title')).toEqual(['Invisible Cities', "If on a winter's night a traveler"]);
    expect(rows[0]).toEqual({
      book_id: 9, author_id: 3, title: 'Invisible Cities', year: 1972, isbn: '9780156453806', pages: 165, price: 11,
      in_print: true, keywords: ['fiction', 'cities'], details: { publisher: 'Einaudi', edition: 3, format: { cover: 'paper' } },
      summary: 'Marco Polo describes imagined cities to Kublai Khan.',
    });
  });

  it('keep the function order (nulls last here)', async () => {
    const rows = await (await call('books_by_author', { p_author: 'Anonymous' })).json();
    expect(pluck(rows, 'book_id')).toEqual([15, 20]);
  });

  it('answer an empty list when the function returns no rows', async () => {
    const res = await call('books_by_author', { p_author: 'Nobody' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });

  it('bind arguments as values, never as SQL', async () => {
    const res = await call('books_by_author', { p_author: "x'); DELETE FROM app.books; --" });
    expect(await res.json()).toEqual([]);
    expect((await (await call('books_by_author', { p_author: 'Terry Pratchett' })).json()).length).toBe(4);
  });
});

describe('plugin actions', () => {
  it('call the registered building block with the arguments', async () => {
    const res = await call('annualise', { rate_per_hour: 0.0001 });
    expect(res.status).toBe(200);
    const out = await res.json();
    expect(out.rate_per_hour).toBe(0.0001);
    expect(out.apr).toBeCloseTo(0.876, 12);
  });

  it('handle zero and negative rates', async () => {
    expect((await (await call('annualise', { rate_per_hour: 0 })).json()).apr).toBe(0);
    expect((await (await call('annualise', { rate_per_hour: -0.00002 })).json()).apr).toBeCloseTo(-0.1752, 12);
  });
});

describe('arguments', () => {
  it('a missing required argument is C307 with where and what', async () => {
    const err = await expectApiError(await call('annualise', {}), 400, 'C307');
    expect(err.message).toContain('rate_per_hour');
    expect(err.details).toMatchObject({ action: 'annualise', errors: [{ location: 'body', params: { missingProperty: 'rate_per_hour' } }] });
  });

  it('a wrong type is C307 at the argument', async () => {
    const err = await expectApiError(await call('annualise', { rate_per_hour: 'abc' }), 400, 'C307');
    expect(err.details).toMatchObject({ errors: [{ location: 'body.rate_per_hour', message: 'must be number' }] });
  });

  it('an argument the schema does not know is C307', async () => {
    const err = await expectApiError(await call('books_by_author', { p_author: 'Anonymous', p_year: 1 }), 400, 'C307');
    expect(err.details).toMatchObject({ errors: [{ params: { additionalProperty: 'p_year' } }] });
  });

  it('an empty or non-object body is C307', async () => {
    await expectApiError(await call('books_by_author'), 400, 'C307');
    await expectApiError(await call('annualise', [0.1]), 400, 'C307');
    await expectApiError(await call('books_by_author', { p_author: '' }), 400, 'C307');
  });

  it('a body that is not JSON is C105', async () => {
    const res = await s.http('/api/rpc/annualise', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"rate_per_hour": ' });
    const err = await expectApiError(res, 400, 'C105');
    expect(err.details).toEqual({ location: 'body' });
  });
});

describe('action rows', () => {
  it('an unknown action is 404 C204 listing the known ones', async () => {
    const err = await expectApiError(await call('no_such_action', {}), 404, 'C204');
    expect(err.hint).toContain('annualise');
    expect(err.hint).toContain('books_by_author');
  });

  it('a disabled action is 403 C600, and enabling it again takes effect live', async () => {
    await s.sql(`UPDATE meta.actions SET enabled = false WHERE action_name = 'annualise'`);
    await waitFor(() => s.engine.store.current.actions.get('annualise')?.enabled === false);
    await expectApiError(await call('annualise', { rate_per_hour: 0.0001 }), 403, 'C600');
    await s.sql(`UPDATE meta.actions SET enabled = true WHERE action_name = 'annualise'`);
    await waitFor(() => s.engine.store.current.actions.get('annualise')?.enabled === true);
    expect((await call('annualise', { rate_per_hour: 0.0001 })).status).toBe(200);
  });

  it('an action row added through the API is callable, and a missing target is C601', async () => {
    const add = await s.http('/api/actions', {
      method: 'POST',
      json: [
        { action_name: 'lost_function', kind: 'sql_function', target: 'app.no_such_function', returns: 'rows' },
        { action_name: 'lost_block', kind: 'plugin', target: 'finance.no_such_block' },
      ],
    });
    expect(add.status).toBe(201);
    await waitFor(() => s.engine.store.current.actions.has('lost_block'));
    const fn = await expectApiError(await call('lost_function', {}), 500, 'C601');
    expect(fn.details).toMatchObject({ action: 'lost_function', target: 'app.no_such_function' });
    const block = await expectApiError(await call('lost_block', {}), 500, 'C601');
    expect(block.details).toMatchObject({ target: 'finance.no_such_block' });
    expect(block.details!.known).toContain('finance.annualise');
  });
});
