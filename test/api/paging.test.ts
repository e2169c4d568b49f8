// Order, limit/offset, the Range header, counts in Content-Range (206 when partial), singular
// responses, HEAD, and the row cap from system_configuration and meta.entities.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type TestServer } from '../helpers/engine.ts';
import { expectApiError, getJson, pluck, startLibrary } from '../helpers/library.ts';

let s: TestServer;
beforeAll(async () => { s = await startLibrary(); });
afterAll(async () => { await s?.close(); });

describe('order', () => {
  it('sorts ascending by default and descending with .desc', async () => {
    const asc = await getJson(s, '/api/authors?select=author_id&born=not.is.null&order=born');
    expect(pluck(asc, 'author_id')).toEqual([7, 5, 3, 1, 4, 2, 8]);
    const desc = await getJson(s, '/api/authors?select=author_id&born=not.is.null&order=born.desc');
    expect(pluck(desc, 'author_id')).toEqual([8, 2, 4, 1, 3, 5, 7]);
  });

  it('puts nulls last on asc and first on desc unless told otherwise', async () => {
    expect(pluck(await getJson(s, '/api/authors?select=author_id&order=born.asc'), 'author_id').at(-1)).toBe(6);
    expect(pluck(await getJson(s, '/api/authors?select=author_id&order=born.desc'), 'author_id')[0]).toBe(6);
    expect(pluck(await getJson(s, '/api/authors?select=author_id&order=born.desc.nullslast'), 'author_id')).toEqual([8, 2, 4, 1, 3, 5, 7, 6]);
    expect(pluck(await getJson(s, '/api/authors?select=author_id&order=born.asc.nullsfirst'), 'author_id')).toEqual([6, 7, 5, 3, 1, 4, 2, 8]);
    expect(pluck(await getJson(s, '/api/authors?select=author_id&order=born.nullsfirst'), 'author_id')[0]).toBe(6);
  });

  it('sorts by several terms in turn', async () => {
    const rows = await getJson(s, '/api/books?select=book_id&author_id=in.(1,2,6)&order=author_id.desc,year.desc.nullslast,book_id');
    expect(pluck(rows, 'book_id')).toEqual([15, 20, 7, 8, 6, 5, 3, 4, 2, 1]);
  });

  it('sorts by a JSON path', async () => {
    const rows = await getJson(s, '/api/authors?select=author_id&profile->awards->hugo=not.is.null&order=profile->awards->hugo.desc');
    expect(pluck(rows, 'author_id')).toEqual([1, 4]);
  });

  it('sorts embedded arrays independently of the parents', async () => {
    const rows = await getJson(s, '/api/authors?select=author_id,books(year)&author_id=in.(1,4)&order=author_id.desc&books.order=year.desc');
    expect(rows).toEqual([
      { author_id: 4, books: [{ year: 1993 }, { year: 1979 }] },
      { author_id: 1, books: [{ year: 1974 }, { year: 1971 }, { year: 1969 }, { year: 1968 }] },
    ]);
  });

  it('refuses an unknown column or direction', async () => {
    const err = await expectApiError(await s.http('/api/books?order=yaer.desc'), 400, 'C201');
    expect(err.details).toMatchObject({ column: 'yaer', did_you_mean: 'year', location: 'order' });
    await expectApiError(await s.http('/api/books?order=year.sideways'), 400, 'C103');
    await expectApiError(await s.http('/api/books?order=title;drop'), 400, 'C100');
  });
});

describe('limit, offset and Range', () => {
  it('pages with limit and offset and reports the range', async () => {
    const res = await s.http('/api/books?select=book_id&order=book_id&limit=3&offset=4');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBe('4-6/*');
    expect(pluck(await res.json(), 'book_id')).toEqual([5, 6, 7]);
  });

  it('pages with limit and offset inside an embedding', async () => {
    const [row] = await getJson(s, '/api/authors?select=books(book_id)&author_id=eq.2&books.order=book_id&books.limit=2&books.offset=1');
    expect(row.books).toEqual([{ book_id: 6 }, { book_id: 7 }]);
  });

  it('pages with Range: items=from-to', async () => {
    const res = await s.http('/api/books?select=book_id&order=book_id', { headers: { range: 'items=3-5' } });
    expect(res.headers.get('content-range')).toBe('3-5/*');
    expect(pluck(await res.json(), 'book_id')).toEqual([4, 5, 6]);
    const open = await s.http('/api/books?select=book_id&order=book_id', { headers: { range: 'items=18-' } });
    expect(open.headers.get('content-range')).toBe('18-19/*');
    expect(pluck(await open.json(), 'book_id')).toEqual([19, 20]);
  });

  it('takes the smaller of limit and the Range size', async () => {
    const res = await s.http('/api/books?select=book_id&order=book_id&limit=2', { headers: { range: 'items=0-9' } });
    expect(pluck(await res.json(), 'book_id')).toEqual([1, 2]);
  });

  it('answers an empty page past the end without a count', async () => {
    const res = await s.http('/api/books?select=book_id&offset=50');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBe('*/*');
    expect(await res.json()).toEqual([]);
  });

  it('refuses bad limits, offsets and ranges with C107', async () => {
    await expectApiError(await s.http('/api/books?limit=abc'), 400, 'C107');
    await expectApiError(await s.http('/api/books?limit=-1'), 400, 'C107');
    await expectApiError(await s.http('/api/books?offset=1.5'), 400, 'C107');
    await expectApiError(await s.http('/api/authors?select=books(title)&books.limit=x'), 400, 'C107');
    await expectApiError(await s.http('/api/books', { headers: { range: 'items=5-2' } }), 400, 'C107');
    await expectApiError(await s.http('/api/books', { headers: { range: 'rows 1 to 2' } }), 400, 'C107');
  });
});

describe('Prefer: count=exact', () => {
  it('reports the total and answers 206 for a partial page', async () => {
    const res = await s.http('/api/books?select=book_id&order=book_id&limit=5', { headers: { prefer: 'count=exact' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('0-4/20');
    expect(res.headers.get('preference-applied')).toBe('count=exact');
    expect(pluck(await res.json(), 'book_id')).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers 200 when the page holds every row', async () => {
    const res = await s.http('/api/books?select=book_id&author_id=eq.1', { headers: { prefer: 'count=exact' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBe('0-3/4');
  });

  it('counts the filtered rows, not the whole table', async () => {
    const res = await s.http('/api/books?select=book_id&order=book_id&in_print=is.true&offset=10&limit=3', { headers: { prefer: 'count=exact' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('10-12/16');
  });

  it('counts with Range too', async () => {
    const res = await s.http('/api/books?select=book_id&order=book_id', { headers: { prefer: 'count=exact', range: 'items=18-29' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('18-19/20');
  });

  it('counts with !inner filters applied to the parents', async () => {
    const res = await s.http('/api/authors?select=name,books!inner(title)&books.year=gt.2000', { headers: { prefer: 'count=exact' } });
    expect(res.headers.get('content-range')).toBe('0-0/1');
  });

  it('reports */0 for no match and */total for limit=0', async () => {
    const none = await s.http('/api/books?year=gt.3000', { headers: { prefer: 'count=exact' } });
    expect(none.status).toBe(200);
    expect(none.headers.get('content-range')).toBe('*/0');
    const zero = await s.http('/api/books?limit=0', { headers: { prefer: 'count=exact' } });
    expect(zero.headers.get('content-range')).toBe('*/20');
    expect(await zero.json()).toEqual([]);
  });

  it('answers 416 with */total when the offset is past the end', async () => {
    const res = await s.http('/api/books?offset=50', { headers: { prefer: 'count=exact' } });
    expect(res.headers.get('content-range')).toBe('*/20');
    const err = await expectApiError(res, 416, 'C309');
    expect(err.details).toEqual({ offset: 50, total: 20 });
  });

  it('counts views', async () => {
    const res = await s.http('/api/author_stats?select=name&book_count=gt.2&order=author_id', { headers: { prefer: 'count=exact' } });
    expect(res.headers.get('content-range')).toBe('0-3/4');
    expect(pluck(await res.json(), 'name')).toEqual(['Ursula K. Le Guin', 'Terry Pratchett', 'Stanisław Lem', 'Jorge Luis Borges']);
  });

  it('refuses an unknown preference with C109', async () => {
    await expectApiError(await s.http('/api/books', { headers: { prefer: 'count=bogus' } }), 400, 'C109');
  });
});

describe('HEAD', () => {
  it('answers headers only, with the count', async () => {
    const res = await s.http('/api/books?limit=5', { method: 'HEAD', headers: { prefer: 'count=exact' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('0-4/20');
    expect(await res.text()).toBe('');
  });
});

describe('Accept: application/vnd.pgrst.object+json', () => {
  const object = { accept: 'application/vnd.pgrst.object+json' };

  it('answers one object instead of an array', async () => {
    const res = await s.http('/api/books?select=book_id,title,authors(name)&book_id=eq.3', { headers: object });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/vnd\.pgrst\.object\+json/);
    expect(await res.json()).toEqual({ book_id: 3, title: 'The Dispossessed', authors: { name: 'Ursula K. Le Guin' } });
  });

  it('answers 406 when no row or several rows match', async () => {
    const many = await expectApiError(await s.http('/api/books?author_id=eq.1', { headers: object }), 406, 'C308');
    expect(many.details).toEqual({ rows: 4 });
    const none = await expectApiError(await s.http('/api/books?book_id=eq.999', { headers: object }), 406, 'C308');
    expect(none.details).toEqual({ rows: 0 });
  });

  it('refuses an Accept it cannot produce with 406 C110', async () => {
    await expectApiError(await s.http('/api/books', { headers: { accept: 'text/html' } }), 406, 'C110');
  });
});

describe('row cap', () => {
  it('caps pages at 1000 rows by default and refuses a larger limit with C302', async () => {
    const err = await expectApiError(await s.http('/api/books?limit=1001'), 400, 'C302');
    expect(err.details).toEqual({ limit: 1001, max_rows: 1000 });
    expect((await getJson(s, '/api/books?limit=1000')).length).toBe(20);
  });

  // The cases below change the definition; they run last in this file.
  it('follows api.max_rows from system_configuration, live', async () => {
    await s.sql(`INSERT INTO meta.system_configuration (config_key, config_value, data_type, description)
      VALUES ('api.max_rows', '5', 'integer', 'Largest page the API serves (test).')`);
    await waitFor(() => s.engine.store.current.config.get('api.max_rows') === 5);
    const res = await s.http('/api/books?select=book_id&order=book_id', { headers: { prefer: 'count=exact' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('0-4/20');
    const err = await expectApiError(await s.http('/api/books?limit=6'), 400, 'C302');
    expect(err.details).toEqual({ limit: 6, max_rows: 5 });
    await expectApiError(await s.http('/api/books', { headers: { range: 'items=0-9' } }), 400, 'C302');
    expect((await getJson(s, '/api/books?limit=5&offset=15')).length).toBe(5);
  });

  it('lets meta.entities.max_rows override it per entity', async () => {
    await s.sql(`INSERT INTO meta.entities (entity_name, max_rows) VALUES ('reviews', 3)`);
    await waitFor(() => s.engine.store.current.entities.get('reviews')?.maxRows === 3);
    const res = await s.http('/api/reviews?select=review_id&order=review_id');
    expect(res.headers.get('content-range')).toBe('0-2/*');
    expect(pluck(await res.json(), 'review_id')).toEqual([1, 2, 3]);
    const err = await expectApiError(await s.http('/api/reviews?limit=4'), 400, 'C302');
    expect(err.details).toEqual({ limit: 4, max_rows: 3 });
    expect((await getJson(s, '/api/books?limit=5')).length).toBe(5);
  });

  it('orders by meta.entities.default_order when the request gives no order', async () => {
    await s.sql(`INSERT INTO meta.entities (entity_name, default_order) VALUES ('members', 'joined_on.desc')`);
    await waitFor(() => s.engine.store.current.entities.get('members')?.defaultOrder === 'joined_on.desc');
    expect(pluck(await getJson(s, '/api/members?select=member_id'), 'member_id')).toEqual([4, 3, 2, 1]);
    expect(pluck(await getJson(s, '/api/members?select=member_id&order=member_id'), 'member_id')).toEqual([1, 2, 3, 4]);
  });
});
