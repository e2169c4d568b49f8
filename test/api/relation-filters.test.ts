// Filters through a foreign key without embedding (`authors.country=eq.GB` on books): rows are
// kept when a related row matches — how stored row rules follow relations. Plus database
// refusals that must stay 4xx on both PostgreSQL 15 and PGlite (PostgreSQL 18).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/engine.ts';
import { expectApiError, getJson, pluck, startLibrary } from '../helpers/library.ts';

let s: TestServer;
beforeAll(async () => { s = await startLibrary(); });
afterAll(async () => { await s?.close(); });

describe('filters through a relation that is not selected', () => {
  it('keep only rows whose related row matches, without adding it to the output', async () => {
    const rows = await getJson(s, '/api/books?select=title,author_id&authors.country=eq.GB&order=title');
    const gbAuthors = await getJson(s, '/api/authors?select=author_id&country=eq.GB');
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(pluck(rows, 'author_id'))).toEqual(new Set(pluck(gbAuthors, 'author_id')));
    expect(Object.keys(rows[0])).toEqual(['title', 'author_id']);
  });

  it('work in the one-to-many direction too: authors having a book after 2000', async () => {
    const rows = await getJson(s, '/api/authors?select=name&books.year=gt.2000&order=name');
    const books = await getJson(s, '/api/books?select=author_id&year=gt.2000');
    const authors = await getJson(s, '/api/authors?select=author_id,name&order=name');
    const expected = authors.filter((a) => pluck(books, 'author_id').includes(a.author_id)).map((a) => a.name);
    expect(pluck(rows, 'name')).toEqual(expected);
  });

  it('apply to PATCH and DELETE, and count as the filter those need', async () => {
    const before = await getJson(s, '/api/books?select=book_id,in_print&authors.country=eq.PL');
    expect(before.length).toBeGreaterThan(0);
    const res = await s.http('/api/books?authors.country=eq.PL&select=book_id', { method: 'PATCH', json: { in_print: false }, headers: { prefer: 'return=representation' } });
    expect(res.status).toBe(200);
    expect(new Set(pluck(await res.json(), 'book_id'))).toEqual(new Set(pluck(before, 'book_id')));
    const others = await getJson(s, '/api/books?select=book_id&in_print=is.false&authors.country=neq.PL');
    expect(others.every((b) => !pluck(before, 'book_id').includes(b.book_id))).toBe(true);
  });

  it('refuse an unknown relation or column with the location', async () => {
    await expectApiError(await s.http('/api/books?writers.country=eq.GB'), 400, 'C202');
    const e = await expectApiError(await s.http('/api/books?authors.contry=eq.GB'), 400, 'C201');
    expect(e.details).toMatchObject({ entity: 'authors', column: 'contry', did_you_mean: 'country' });
    await expectApiError(await s.http('/api/books?authors.order=name'), 400, 'C100');
  });
});

describe('database refusals stay 4xx', () => {
  it('deleting a row that others still reference is 409 C401', async () => {
    const [author] = await getJson(s, '/api/authors?select=author_id&books.book_id=not.is.null&limit=1');
    await expectApiError(await s.http(`/api/authors?author_id=eq.${author.author_id}`, { method: 'DELETE' }), 409, 'C401');
  });

  it('writing into a view that is not updatable is 405 C305', async () => {
    const views = await getJson(s, '/api/author_stats?limit=1');
    expect(views.length).toBe(1);
    const col = Object.keys(views[0])[0];
    await expectApiError(await s.http('/api/author_stats', { method: 'POST', json: { [col]: views[0][col] } }), 405, 'C305');
    await expectApiError(await s.http(`/api/author_stats?${col}=eq.${encodeURIComponent(String(views[0][col]))}`, { method: 'DELETE' }), 405, 'C305');
  });

  it('a malformed text-search query is 400 C300', async () => {
    await expectApiError(await s.http('/api/books?summary=fts.wizard%20%26'), 400, 'C300');
  });
});
