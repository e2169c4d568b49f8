// Writes through the generic resource endpoint: POST (one row, many rows, columns=), the
// Prefer return modes, upserts, PATCH and DELETE with filters, singular writes, and the
// database's constraints turned into registry errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/engine.ts';
import { expectApiError, getJson, pluck, startLibrary } from '../helpers/library.ts';

let s: TestServer;
beforeAll(async () => { s = await startLibrary(); });
afterAll(async () => { await s?.close(); });

const representation = { prefer: 'return=representation' };

describe('POST', () => {
  it('inserts one object and answers 201 with no body by default', async () => {
    const res = await s.http('/api/authors', { method: 'POST', json: { name: 'Tove Jansson', country: 'FI', born: 1914 } });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('');
    expect(await getJson(s, '/api/authors?select=name,country,born,profile&name=eq.Tove Jansson'))
      .toEqual([{ name: 'Tove Jansson', country: 'FI', born: 1914, profile: {} }]);
  });

  it('returns the inserted rows with return=representation, defaults filled in', async () => {
    const res = await s.http('/api/books', { method: 'POST', headers: representation, json: { author_id: 3, title: 'Cosmicomics', year: 1965, price: 10.5 } });
    expect(res.status).toBe(201);
    const [row] = await res.json();
    expect(row).toMatchObject({ author_id: 3, title: 'Cosmicomics', year: 1965, price: 10.5, in_print: true, keywords: [], details: null });
    expect(row.book_id).toBeGreaterThan(20);
  });

  it('shapes the representation with select, embedding included', async () => {
    const res = await s.http('/api/books?select=title,authors(name)', { method: 'POST', headers: representation, json: { author_id: 5, title: 'The Invincible' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([{ title: 'The Invincible', authors: { name: 'Stanisław Lem' } }]);
  });

  it('answers return=headers-only with a Location naming the new row', async () => {
    const res = await s.http('/api/tags', { method: 'POST', headers: { prefer: 'return=headers-only' }, json: { name: 'signed copy' } });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('');
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/api\/tags\?tag_id=eq\.\d+$/);
    expect(await getJson(s, `${location}&select=name`)).toEqual([{ name: 'signed copy' }]);
  });

  it('puts every primary key column in the Location of a composite key', async () => {
    const res = await s.http('/api/book_tags', { method: 'POST', headers: { prefer: 'return=headers-only' }, json: { book_id: 3, tag_id: 1 } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/api/book_tags?book_id=eq.3&tag_id=eq.1');
  });

  it('inserts an array of objects in one statement', async () => {
    const res = await s.http('/api/reviews?select=book_id,reviewer,rating', {
      method: 'POST', headers: representation,
      json: [{ book_id: 10, reviewer: 'fay', rating: 4.3 }, { book_id: 10, reviewer: 'gus', rating: '3.7', body: 'Clever.' }],
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-range')).toBe('0-1/*');
    expect(await res.json()).toEqual([{ book_id: 10, reviewer: 'fay', rating: 4.3 }, { book_id: 10, reviewer: 'gus', rating: 3.7 }]);
  });

  it('inserts nothing when one row of an array fails', async () => {
    const res = await s.http('/api/reviews', { method: 'POST', json: [{ book_id: 19, reviewer: 'hal', rating: 4 }, { book_id: 19, reviewer: 'ida', rating: 9 }] });
    await expectApiError(res, 400, 'C403');
    expect(await getJson(s, '/api/reviews?book_id=eq.19')).toEqual([]);
  });

  it('fills missing keys with column defaults under Prefer: missing=default', async () => {
    const res = await s.http('/api/books?select=title,in_print,keywords', {
      method: 'POST', headers: { prefer: 'return=representation, missing=default' },
      json: [{ author_id: 4, title: 'Dawn', in_print: false, keywords: ['sf'] }, { author_id: 4, title: 'Wild Seed' }],
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([
      { title: 'Dawn', in_print: false, keywords: ['sf'] },
      { title: 'Wild Seed', in_print: true, keywords: [] },
    ]);
  });

  it('takes only the listed keys with columns=', async () => {
    const res = await s.http('/api/books?columns=author_id,title&select=title,year', {
      method: 'POST', headers: representation, json: [{ author_id: 2, title: 'Mort', year: 1987 }, { author_id: 2, title: 'Eric' }],
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([{ title: 'Mort', year: null }, { title: 'Eric', year: null }]);
  });

  it('stores JSON, arrays and exact decimals as sent', async () => {
    const res = await s.http('/api/books?select=price,keywords,details', {
      method: 'POST', headers: representation,
      json: { author_id: 7, title: 'Dreamtigers', price: '12345678.91', keywords: ['poetry', 'a,b', 'quote"d'], details: { nested: { list: [1, 'two', null] } } },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([{ price: 12345678.91, keywords: ['poetry', 'a,b', 'quote"d'], details: { nested: { list: [1, 'two', null] } } }]);
    const [back] = await getJson(s, '/api/books?select=price::text&title=eq.Dreamtigers');
    expect(back.price).toBe('12345678.91');
  });

  it('with a singular Accept, inserts exactly one row or nothing', async () => {
    const object = { accept: 'application/vnd.pgrst.object+json', prefer: 'return=representation' };
    const one = await s.http('/api/tags?select=name', { method: 'POST', headers: object, json: { name: 'first edition' } });
    expect(one.status).toBe(201);
    expect(await one.json()).toEqual({ name: 'first edition' });
    const two = await s.http('/api/tags', { method: 'POST', headers: object, json: [{ name: 'x-one' }, { name: 'x-two' }] });
    await expectApiError(two, 406, 'C308');
    expect(await getJson(s, '/api/tags?name=like.x-*')).toEqual([]);
  });
});

describe('upsert', () => {
  it('merges on the primary key with resolution=merge-duplicates', async () => {
    const res = await s.http('/api/tags?select=tag_id,name&order=tag_id', {
      method: 'POST', headers: { prefer: 'return=representation,resolution=merge-duplicates' },
      json: [{ tag_id: 6, name: 'unused (renamed)' }, { tag_id: 90, name: 'new via upsert' }],
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('resolution=merge-duplicates');
    expect(await res.json()).toEqual([{ tag_id: 6, name: 'unused (renamed)' }, { tag_id: 90, name: 'new via upsert' }]);
    expect(await getJson(s, '/api/tags?select=name&tag_id=in.(6,90)&order=tag_id')).toEqual([{ name: 'unused (renamed)' }, { name: 'new via upsert' }]);
  });

  it('merges on a unique key named with on_conflict, leaving other columns alone', async () => {
    const res = await s.http('/api/authors?on_conflict=name&select=name,country,born,profile', {
      method: 'POST', headers: { prefer: 'return=representation,resolution=merge-duplicates' },
      json: [{ name: 'Italo Calvino', country: 'CU' }, { name: 'Primo Levi', country: 'IT' }],
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([
      { name: 'Italo Calvino', country: 'CU', born: 1923, profile: { genres: ['fiction'] } },
      { name: 'Primo Levi', country: 'IT', born: null, profile: {} },
    ]);
  });

  it('keeps existing rows with resolution=ignore-duplicates and returns only new ones', async () => {
    const res = await s.http('/api/authors?on_conflict=name&select=name,country', {
      method: 'POST', headers: { prefer: 'return=representation,resolution=ignore-duplicates' },
      json: [{ name: 'Terry Pratchett', country: 'AU' }, { name: 'Neil Gaiman', country: 'GB' }],
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([{ name: 'Neil Gaiman', country: 'GB' }]);
    expect(await getJson(s, '/api/authors?select=country&name=eq.Terry Pratchett')).toEqual([{ country: 'GB' }]);
  });

  it('upserts a junction row on its composite key', async () => {
    const res = await s.http('/api/book_tags', { method: 'POST', headers: { prefer: 'return=representation,resolution=ignore-duplicates' }, json: { book_id: 1, tag_id: 1 } });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([]);
  });

  it('refuses on_conflict columns that are not a unique key with C306', async () => {
    const err = await expectApiError(await s.http('/api/authors?on_conflict=country', {
      method: 'POST', headers: { prefer: 'resolution=merge-duplicates' }, json: { name: 'X', country: 'US' },
    }), 400, 'C306');
    expect(err.details).toMatchObject({ on_conflict: ['country'] });
  });

  it('without a resolution, a duplicate key is 409 C400 naming the constraint', async () => {
    const err = await expectApiError(await s.http('/api/authors', { method: 'POST', json: { name: 'Terry Pratchett' } }), 409, 'C400');
    expect(err.details).toMatchObject({ entity: 'authors', constraint: 'authors_name_key' });
  });
});

describe('PATCH', () => {
  it('updates the rows its filters match and answers 204', async () => {
    const res = await s.http('/api/books?book_id=eq.12', { method: 'PATCH', json: { price: 11.25, summary: 'Updated blurb.' } });
    expect(res.status).toBe(204);
    expect(await getJson(s, '/api/books?select=price,summary&book_id=eq.12')).toEqual([{ price: 11.25, summary: 'Updated blurb.' }]);
  });

  it('returns the changed rows, shaped by select, with return=representation', async () => {
    const res = await s.http('/api/books?author_id=eq.2&year=gt.2000&select=book_id,in_print,authors(name)&order=book_id', {
      method: 'PATCH', headers: representation, json: { in_print: false },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBe('0-1/2');
    const rows = await res.json();
    expect(rows.map((r: { book_id: number }) => r.book_id).sort()).toEqual([7, 8]);
    expect(rows[0]).toMatchObject({ in_print: false, authors: { name: 'Terry Pratchett' } });
    expect(pluck(await getJson(s, '/api/books?select=book_id&author_id=eq.2&in_print=is.false&order=book_id'), 'book_id')).toEqual([7, 8]);
  });

  it('writes JSON, arrays and null', async () => {
    const res = await s.http('/api/books?book_id=eq.14&select=details,keywords,price', {
      method: 'PATCH', headers: representation, json: { details: { publisher: 'Seabury', tags: ['x'] }, keywords: ['sf', 'robots'], price: null },
    });
    expect(await res.json()).toEqual([{ details: { publisher: 'Seabury', tags: ['x'] }, keywords: ['sf', 'robots'], price: null }]);
  });

  it('matches nothing without error', async () => {
    const res = await s.http('/api/authors?name=eq.Nobody', { method: 'PATCH', headers: representation, json: { born: 1 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });

  it('is refused without a filter (C301), and changes nothing', async () => {
    const err = await expectApiError(await s.http('/api/books', { method: 'PATCH', json: { in_print: false } }), 400, 'C301');
    expect(err.details).toEqual({ entity: 'books', method: 'PATCH' });
    expect((await getJson(s, '/api/books?in_print=is.true')).length).toBeGreaterThan(10);
  });

  it('is refused with limit or offset, which would not limit it (C100)', async () => {
    const err = await expectApiError(await s.http('/api/books?author_id=eq.1&order=book_id&limit=1', { method: 'PATCH', json: { pages: 999 } }), 400, 'C100');
    expect(err.details).toMatchObject({ parameter: 'limit' });
    expect(await getJson(s, '/api/books?pages=eq.999')).toEqual([]);
  });

  it('with a singular Accept, changes exactly one row or nothing', async () => {
    const object = { accept: 'application/vnd.pgrst.object+json', prefer: 'return=representation' };
    const one = await s.http('/api/books?book_id=eq.9&select=book_id,pages', { method: 'PATCH', headers: object, json: { pages: 166 } });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ book_id: 9, pages: 166 });
    const many = await s.http('/api/books?author_id=eq.1', { method: 'PATCH', headers: object, json: { title: 'Same Title' } });
    const err = await expectApiError(many, 406, 'C308');
    expect(err.details).toEqual({ rows: 4 });
    expect(await getJson(s, '/api/books?title=eq.Same Title')).toEqual([]);
  });

  it('refuses bodies that are not one object (C303) and unknown keys (C201)', async () => {
    await expectApiError(await s.http('/api/books?book_id=eq.1', { method: 'PATCH', json: [{ title: 'x' }] }), 400, 'C303');
    await expectApiError(await s.http('/api/books?book_id=eq.1', { method: 'PATCH', json: {} }), 400, 'C303');
    const err = await expectApiError(await s.http('/api/books?book_id=eq.1', { method: 'PATCH', json: { titel: 'x' } }), 400, 'C201');
    expect(err.details).toMatchObject({ column: 'titel', did_you_mean: 'title' });
  });
});

describe('DELETE', () => {
  it('deletes the rows its filters match and answers 204', async () => {
    const res = await s.http('/api/reviews?reviewer=eq.eve', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await getJson(s, '/api/reviews?reviewer=eq.eve')).toEqual([]);
  });

  it('returns the deleted rows with return=representation', async () => {
    const res = await s.http('/api/reviews?reviewer=eq.dev&select=review_id&order=review_id', { method: 'DELETE', headers: representation });
    expect(res.status).toBe(200);
    expect(pluck(await res.json(), 'review_id').sort((a, b) => Number(a) - Number(b))).toEqual([6, 9, 14]);
  });

  it('cascades along ON DELETE CASCADE foreign keys', async () => {
    expect((await s.http('/api/books?book_id=eq.18', { method: 'DELETE' })).status).toBe(204);
    expect(await getJson(s, '/api/book_tags?book_id=eq.18')).toEqual([]);
    expect(await getJson(s, '/api/books?book_id=eq.18')).toEqual([]);
  });

  it('is refused without a filter (C301) or with a limit (C100)', async () => {
    await expectApiError(await s.http('/api/reviews', { method: 'DELETE' }), 400, 'C301');
    await expectApiError(await s.http('/api/reviews?reviewer=eq.ana&limit=1', { method: 'DELETE' }), 400, 'C100');
    expect((await getJson(s, '/api/reviews?reviewer=eq.ana')).length).toBe(4);
  });

  it('refuses to delete a row that others still reference (409 C401)', async () => {
    const err = await expectApiError(await s.http('/api/books?book_id=eq.1', { method: 'DELETE' }), 409, 'C401');
    expect(err.details).toMatchObject({ constraint: 'loans_book_id_fkey' });
    expect((await getJson(s, '/api/books?book_id=eq.1')).length).toBe(1);
  });
});

describe('values the database refuses', () => {
  it('a missing foreign key target is 409 C401', async () => {
    const err = await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 999, title: 'Orphan' } }), 409, 'C401');
    expect(err.details).toMatchObject({ entity: 'books', constraint: 'books_author_id_fkey' });
  });

  it('a missing NOT NULL value is C402 naming the column', async () => {
    const err = await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1 } }), 400, 'C402');
    expect(err.details).toMatchObject({ column: 'title' });
    await expectApiError(await s.http('/api/books?book_id=eq.2', { method: 'PATCH', json: { title: null } }), 400, 'C402');
  });

  it('a CHECK violation is C403 naming the constraint', async () => {
    const err = await expectApiError(await s.http('/api/reviews', { method: 'POST', json: { book_id: 1, reviewer: 'x', rating: 7 } }), 400, 'C403');
    expect(err.details).toMatchObject({ constraint: 'reviews_rating_range' });
    await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1, title: 'x', pages: 0 } }), 400, 'C403');
    await expectApiError(await s.http('/api/authors?author_id=eq.1', { method: 'PATCH', json: { country: 'usa' } }), 400, 'C403');
  });

  it('a duplicate unique value is 409 C400', async () => {
    await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1, title: 'Copy', isbn: '9780547722023' } }), 409, 'C400');
  });

  it('a body value of the wrong type is C300 naming column and position', async () => {
    const year = await expectApiError(await s.http('/api/books', { method: 'POST', json: [{ author_id: 1, title: 'a' }, { author_id: 1, title: 'b', year: 'abc' }] }), 400, 'C300');
    expect(year.details).toMatchObject({ column: 'year', location: 'body[1].year' });
    await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1, title: 'x', in_print: 'true' } }), 400, 'C300');
    await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1, title: 'x', keywords: 'sf' } }), 400, 'C300');
    await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1, title: { text: 'x' } } }), 400, 'C300');
    await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1.5, title: 'x' } }), 400, 'C300');
    await expectApiError(await s.http('/api/reviews', { method: 'POST', json: { book_id: 1, reviewer: 'x', rating: 4, reviewed_on: 'yesterday-ish' } }), 400, 'C300');
  });

  it('a number too large for its column is a 400', async () => {
    await expectApiError(await s.http('/api/reviews', { method: 'POST', json: { book_id: 1, reviewer: 'x', rating: 12 } }), 400, 'C404');
  });

  it('bodies that are not objects, or name no or unknown columns, are C303 / C201', async () => {
    await expectApiError(await s.http('/api/books', { method: 'POST', json: [] }), 400, 'C303');
    await expectApiError(await s.http('/api/books', { method: 'POST', json: [1, 2] }), 400, 'C303');
    await expectApiError(await s.http('/api/books', { method: 'POST', json: {} }), 400, 'C303');
    const err = await expectApiError(await s.http('/api/books', { method: 'POST', json: { author_id: 1, title: 'x', nope: 1 } }), 400, 'C201');
    expect(err.details).toMatchObject({ column: 'nope' });
    await expectApiError(await s.http('/api/books?columns=author_id,nope', { method: 'POST', json: { author_id: 1 } }), 400, 'C201');
  });

  it('nothing of the refused writes above was stored', async () => {
    expect(await getJson(s, '/api/books?title=in.(Orphan,Copy,x,a,b)')).toEqual([]);
    expect(await getJson(s, '/api/reviews?reviewer=eq.x')).toEqual([]);
  });
});
