// Row filters: every operator, not., or/and trees (nested, negated, with quoted values), JSON
// paths, arrays, full-text search, and filters on embedded relations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/engine.ts';
import { expectApiError, getJson, pluck, startLibrary } from '../helpers/library.ts';

let s: TestServer;
beforeAll(async () => { s = await startLibrary(); });
afterAll(async () => { await s?.close(); });

/** book_ids matching the query string, in id order */
async function ids(query: string): Promise<number[]> {
  const rows = await getJson(s, `/api/books?select=book_id&order=book_id&${query}`);
  return pluck<number>(rows, 'book_id');
}

describe('comparison operators', () => {
  it('eq, neq, gt, gte, lt, lte on integers', async () => {
    expect(await ids('year=eq.1979')).toEqual([10, 11]);
    expect(await ids('author_id=eq.1&year=neq.1968')).toEqual([2, 3, 4]);
    expect(await ids('year=gt.2000')).toEqual([7, 8]);
    expect(await ids('year=gte.1993')).toEqual([7, 8, 12]);
    expect(await ids('year=lt.1950')).toEqual([16, 17]);
    expect(await ids('year=lte.1961')).toEqual([13, 16, 17]);
  });

  it('compares numeric columns exactly, and ANDs repeated filters on one column', async () => {
    expect(await ids('price=eq.10.99')).toEqual([7, 8]);
    expect(await ids('price=gte.10&price=lt.11')).toEqual([7, 8, 12]);
  });

  it('compares text, with spaces and punctuation taken literally', async () => {
    expect(await ids('title=eq.Guards! Guards!')).toEqual([5]);
    expect(await ids(`title=eq.${encodeURIComponent("If on a winter's night a traveler")}`)).toEqual([10]);
    expect(await ids(`title=eq.${encodeURIComponent('The "Lost" Ballad')}`)).toEqual([20]);
  });

  it('like and ilike, with * as the wildcard', async () => {
    expect(await ids('title=like.*Gods*')).toEqual([6]);
    expect(await ids('title=like.*gods*')).toEqual([]);
    expect(await ids('title=ilike.*GODS*')).toEqual([6]);
    expect(await ids('title=ilike.the l*')).toEqual([2, 4]);
  });

  it('like on a non-text column compares its text form', async () => {
    expect(await ids('year=like.197*')).toEqual([3, 4, 9, 10, 11]);
  });

  it('match and imatch take POSIX regular expressions', async () => {
    expect(await ids(`title=match.${encodeURIComponent('^The [A-D]')}`)).toEqual([3, 14, 17]);
    expect(await ids(`title=imatch.${encodeURIComponent('^the [a-d]')}`)).toEqual([3, 14, 17]);
    expect(await ids(`title=match.${encodeURIComponent('^the [a-d]')}`)).toEqual([]);
  });

  it('in takes a list, with quotes around values holding commas, parentheses or quotes', async () => {
    expect(await ids('book_id=in.(3,1,2)')).toEqual([1, 2, 3]);
    expect(await ids(`title=in.(${encodeURIComponent('"Labyrinths (Stories, Essays)",Solaris')})`)).toEqual([13, 18]);
    expect(await ids(`title=in.(${encodeURIComponent('"The \\"Lost\\" Ballad"')})`)).toEqual([20]);
    expect(await ids('book_id=in.()')).toEqual([]);
  });

  it('reads numbers with spaces around them, as PostgreSQL does', async () => {
    expect(await ids('year=in.(1968, 1969)')).toEqual([1, 2, 19]);
    expect(await ids('year=eq. 1961')).toEqual([13]);
  });

  it('is null / not_null / true / false, case-insensitively', async () => {
    expect(await ids('year=is.null')).toEqual([15, 20]);
    expect(await ids('year=is.NULL&summary=is.not_null')).toEqual([15]);
    expect(await ids('in_print=is.false')).toEqual([4, 13, 17, 20]);
    expect((await ids('in_print=is.true')).length).toBe(16);
  });

  it('isdistinct treats null as a value', async () => {
    expect(await ids('author_id=eq.1&price=isdistinct.9.99')).toEqual([2, 3, 4]);
    expect(await ids('author_id=eq.1&price=neq.9.99')).toEqual([2, 3]);
  });

  it('accepts boolean spellings PostgreSQL accepts', async () => {
    expect(await ids('in_print=eq.false')).toEqual([4, 13, 17, 20]);
    expect(await ids('in_print=eq.f')).toEqual([4, 13, 17, 20]);
  });
});

describe('not.', () => {
  it('negates any operator', async () => {
    expect(await ids('author_id=eq.1&year=not.eq.1968')).toEqual([2, 3, 4]);
    expect(await ids('author_id=eq.1&year=not.in.(1968,1969)')).toEqual([3, 4]);
    expect(await ids('author_id=eq.6&year=not.is.null')).toEqual([]);
    expect(await ids('author_id=eq.7&title=not.like.*Aleph*')).toEqual([16, 18]);
  });
});

describe('arrays and JSON', () => {
  it('cs, cd and ov on a text[] column', async () => {
    expect(await ids('keywords=cs.{humour}')).toEqual([5, 6, 7, 8, 14]);
    expect(await ids('keywords=cs.{humour,time}')).toEqual([8]);
    expect(await ids('keywords=cd.{fiction,cities,essays}')).toEqual([9, 17, 18, 20]);
    expect(await ids('keywords=ov.{robots,dragons}')).toEqual([5, 14]);
    expect(await ids('keywords=eq.{sf,gender}')).toEqual([2]);
  });

  it('cs on a jsonb column and on a JSON path', async () => {
    const rows = await getJson(s, `/api/authors?select=author_id&order=author_id&profile=cs.${encodeURIComponent('{"genres":["sf"]}')}`);
    expect(pluck(rows, 'author_id')).toEqual([1, 4, 5]);
    expect(await ids(`details->format=cs.${encodeURIComponent('{"cover":"hard"}')}`)).toEqual([1, 5, 7, 13]);
  });

  it('filters on ->> as text and on -> as JSON', async () => {
    expect(await ids('details->>publisher=eq.Gollancz')).toEqual([5, 6]);
    expect(await ids('details->format->>cover=eq.hard')).toEqual([1, 5, 7, 13]);
    expect(await ids('details->edition=eq.2')).toEqual([3, 15]);
    expect(await ids('details->edition=gt.1')).toEqual([3, 9, 15]);
    expect(await ids('details->>publisher=in.(Ace,Sur)')).toEqual([2, 16]);
    expect(await ids('details->edition=in.(2,3)')).toEqual([3, 9, 15]);
    expect(await ids('details->>publisher=is.null')).toEqual([4, 14, 17, 20]);
  });

  it('compares a whole jsonb value with eq', async () => {
    expect(await ids(`details=eq.${encodeURIComponent('{"publisher":"Sur","edition":1}')}`)).toEqual([16]);
  });
});

describe('full-text search', () => {
  it('fts, plfts, phfts and wfts, with an optional configuration', async () => {
    expect(await ids('summary=fts.wizard')).toEqual([1]);
    expect(await ids('summary=fts(english).dragons')).toEqual([5, 15]);
    expect(await ids('summary=plfts.shadow wizard')).toEqual([1]);
    expect(await ids('summary=phfts(english).living ocean')).toEqual([13]);
    expect(await ids('summary=phfts(english).ocean living')).toEqual([]);
    expect(await ids('summary=wfts(english).dragon -tortoise')).toEqual([5, 15]);
    expect(await ids('summary=not.wfts.dragon&author_id=eq.2')).toEqual([6, 7, 8]);
  });
});

describe('or / and trees', () => {
  it('or= combines conditions with OR', async () => {
    expect(await ids('or=(year.lt.1950,year.gt.2000)')).toEqual([7, 8, 16, 17]);
  });

  it('nests and() and or() and accepts not. on nested groups', async () => {
    expect(await ids('and=(year.gte.1960,or(author_id.eq.5,and(author_id.eq.1,in_print.is.false)))')).toEqual([4, 13, 14, 19]);
    // NOT (null AND null) is null, so books without a year match neither branch of the first tree
    expect(await ids('or=(year.gt.2000,not.and(year.gte.1000,year.lte.3000))')).toEqual([7, 8]);
    expect(await ids('or=(year.gt.2000,not.and(year.gte.1960,year.lte.3000))')).toEqual([7, 8, 16, 17]);
  });

  it('not.or= negates the whole group', async () => {
    expect(await ids('not.or=(year.lt.2000,year.is.null)')).toEqual([7, 8]);
    expect(await ids('not.and=(author_id.eq.1,year.lt.1970)&author_id=eq.1')).toEqual([3, 4]);
  });

  it('takes quoted values holding commas, parentheses and escaped quotes', async () => {
    expect(await ids(`or=(${encodeURIComponent('title.eq."Labyrinths (Stories, Essays)",year.lt.1950')})`)).toEqual([16, 17, 18]);
    expect(await ids(`or=(${encodeURIComponent('title.eq."The \\"Lost\\" Ballad",book_id.eq.1')})`)).toEqual([1, 20]);
  });

  it('uses every operator inside a tree: in, is, cs, fts, like, not., JSON paths', async () => {
    expect(await ids(`or=(${encodeURIComponent('keywords.cs.{robots},title.in.(Solaris,Kindred)')})`)).toEqual([11, 13, 14]);
    expect(await ids('or=(details->>publisher.eq.Ace,details->format->>cover.eq.hard)')).toEqual([1, 2, 5, 7, 13]);
    expect(await ids('or=(summary.fts(english).dragon,summary.plfts.living ocean)')).toEqual([5, 13, 15]);
    expect(await ids('author_id=eq.7&or=(title.like.*Aleph*,year.not.lt.1960)')).toEqual([17, 18]);
    expect(await ids('or=(year.is.null,title.ilike.*GODS*)')).toEqual([6, 15, 20]);
  });

  it('ANDs an or= tree with the other filters', async () => {
    expect(await ids('author_id=eq.1&or=(year.eq.1968,year.eq.1974)')).toEqual([1, 3]);
  });
});

describe('filters on embedded relations', () => {
  it('filter, or-tree, order and limit apply inside the embedding', async () => {
    const rows = await getJson(s, '/api/authors?select=name,books(title)&books.or=(year.lt.1962,year.is.null)&books.order=book_id&author_id=in.(5,6)&order=author_id');
    expect(rows).toEqual([
      { name: 'Stanisław Lem', books: [{ title: 'Solaris' }] },
      { name: 'Anonymous', books: [{ title: 'Beowulf' }, { title: 'The "Lost" Ballad' }] },
    ]);
  });

  it('filters two levels down', async () => {
    const [row] = await getJson(s, '/api/authors?select=books(book_id,reviews(rating))&author_id=eq.1&books.order=book_id&books.reviews.rating=gte.4.8');
    expect(row.books).toEqual([
      { book_id: 1, reviews: [{ rating: 5 }] },
      { book_id: 2, reviews: [] },
      { book_id: 3, reviews: [{ rating: 4.8 }] },
      { book_id: 4, reviews: [] },
    ]);
  });

  it('filters an embedding with a JSON path', async () => {
    const [row] = await getJson(s, '/api/authors?select=books(book_id)&author_id=eq.2&books.details->format->>cover=eq.hard&books.order=book_id');
    expect(row.books).toEqual([{ book_id: 5 }, { book_id: 7 }]);
  });

  it('checks the embedded filter column against the embedded entity', async () => {
    const err = await expectApiError(await s.http('/api/authors?select=name,books(title)&books.yr=gt.1'), 400, 'C201');
    expect(err.details).toMatchObject({ entity: 'books', column: 'yr', did_you_mean: 'year' });
  });
});

describe('bad filters', () => {
  it('an unknown operator is C101 naming the operator', async () => {
    const err = await expectApiError(await s.http('/api/books?year=approx.1968'), 400, 'C101');
    expect(err.details).toMatchObject({ operator: 'approx' });
    await expectApiError(await s.http('/api/books?or=(year.approx.1968)'), 400, 'C101');
  });

  it('a value of the wrong type is C300 naming column, type and value', async () => {
    const err = await expectApiError(await s.http('/api/books?year=gt.nineteen'), 400, 'C300');
    expect(err.details).toMatchObject({ column: 'year', type: 'integer', value: 'nineteen' });
    await expectApiError(await s.http('/api/books?price=eq.abc'), 400, 'C300');
    await expectApiError(await s.http('/api/books?year=in.(1968,x)'), 400, 'C300');
    await expectApiError(await s.http('/api/books?in_print=eq.maybe'), 400, 'C300');
    await expectApiError(await s.http('/api/books?year=eq.2147483648'), 400, 'C300');
    await expectApiError(await s.http('/api/books?or=(year.eq.x)'), 400, 'C300');
  });

  it('array operators on a scalar column are C300', async () => {
    await expectApiError(await s.http('/api/books?title=cs.{a}'), 400, 'C300');
  });

  it('a JSON path on a non-JSON column is C100', async () => {
    const err = await expectApiError(await s.http('/api/books?title->x=eq.1'), 400, 'C100');
    expect(err.message).toContain('title');
  });

  it('malformed filters and trees are C100 / C104', async () => {
    await expectApiError(await s.http('/api/books?year=eq'), 400, 'C100');
    await expectApiError(await s.http('/api/books?year=is.maybe'), 400, 'C100');
    await expectApiError(await s.http('/api/books?year=in.1968'), 400, 'C100');
    await expectApiError(await s.http('/api/books?or=year.eq.1'), 400, 'C104');
    await expectApiError(await s.http('/api/books?or=()'), 400, 'C104');
    await expectApiError(await s.http(`/api/books?or=(${encodeURIComponent('title.eq."unterminated')})`), 400, 'C100');
  });

  it('values PostgreSQL cannot read are 400s that quote no SQL', async () => {
    await expectApiError(await s.http(`/api/books?title=match.${encodeURIComponent('(')}`), 400, 'C404');
    await expectApiError(await s.http('/api/books?keywords=cs.humour'), 400, 'C404');
    await expectApiError(await s.http('/api/authors?profile=cs.notjson'), 400, 'C404');
    await expectApiError(await s.http('/api/books?summary=fts(nosuchconfig).wizard'), 400, 'C300');
  });

  it('quotes in values are data, never SQL', async () => {
    expect(await ids(`title=eq.${encodeURIComponent("x'; DROP TABLE app.books; --")}`)).toEqual([]);
    expect((await ids('')).length).toBe(20);
  });
});

describe('hostile values', () => {
  it('match literally — quotes, backslashes, semicolons, comment markers and dollar signs — and change nothing', async () => {
    const hostile = [`x' OR '1'='1`, `a\\'; DROP TABLE app.books; --`, `$1`, `$user.id`, `back\\slash`, `'; COMMIT; DELETE FROM app.books; --`];
    const before = (await s.sql('SELECT count(*)::int AS n FROM app.books')).rows[0].n;
    for (const v of hostile) {
      for (const q of [`title=eq.${encodeURIComponent(v)}`, `title=in.(${encodeURIComponent(`"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)})`, `title=like.${encodeURIComponent(v)}`]) {
        const res = await s.http(`/api/books?select=book_id&${q}`);
        expect(res.status, `${q}: ${await res.clone().text()}`).toBe(200);
        expect(await res.json(), q).toEqual([]);
      }
    }
    expect((await s.sql('SELECT count(*)::int AS n FROM app.books')).rows[0].n).toBe(before);
    // and a real title with a quote in it is found exactly
    await s.sql(`INSERT INTO app.books (author_id, title) VALUES (1, $1)`, [`It's a \\ "test"`]);
    const found = await (await s.http(`/api/books?select=title&title=eq.${encodeURIComponent(`It's a \\ "test"`)}`)).json();
    expect(found).toEqual([{ title: `It's a \\ "test"` }]);
  });
});
