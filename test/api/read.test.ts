// Reading through the generic resource endpoint: select lists (columns, aliases, casts, JSON
// paths) and embedding along foreign keys in both directions and through a junction table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/engine.ts';
import { expectApiError, getJson, pluck, startLibrary } from '../helpers/library.ts';

let s: TestServer;
beforeAll(async () => { s = await startLibrary(); });
afterAll(async () => { await s?.close(); });

describe('select', () => {
  it('returns every column by default', async () => {
    const rows = await getJson(s, '/api/authors?author_id=eq.8');
    expect(rows).toEqual([{ author_id: 8, name: 'Ada Unpublished', country: 'NZ', born: 1990, profile: {} }]);
  });

  it('returns only the named columns, in the order asked', async () => {
    const res = await s.http('/api/books?select=year,title&book_id=eq.2');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(Object.keys(JSON.parse(text)[0])).toEqual(['year', 'title']);
    expect(JSON.parse(text)).toEqual([{ year: 1969, title: 'The Left Hand of Darkness' }]);
  });

  it('renames columns with alias:column', async () => {
    const rows = await getJson(s, '/api/books?select=name:title,published:year&book_id=eq.13');
    expect(rows).toEqual([{ name: 'Solaris', published: 1961 }]);
  });

  it('casts with column::type, also together with an alias', async () => {
    const rows = await getJson(s, '/api/books?select=price::text,y:year::text,pages::float8,keywords::text[]&book_id=eq.1');
    expect(rows).toEqual([{ price: '9.99', y: '1968', pages: 183, keywords: ['fantasy', 'magic', 'school'] }]);
  });

  it('keeps numeric values exact and types JSON, arrays and nulls faithfully', async () => {
    const [row] = await getJson(s, '/api/books?select=price,in_print,keywords,details,isbn&book_id=eq.4');
    expect(row).toEqual({ price: null, in_print: false, keywords: ['sf', 'dreams'], details: null, isbn: null });
    const [priced] = await getJson(s, '/api/books?select=price&book_id=eq.3');
    expect(priced.price).toBe(13);
  });

  it('reads into JSON with -> (JSON value) and ->> (text), named after the last key', async () => {
    const rows = await getJson(s, '/api/books?select=book_id,details->publisher,details->edition,cover:details->format->>cover&book_id=in.(1,4)&order=book_id');
    expect(rows).toEqual([
      { book_id: 1, publisher: 'Parnassus', edition: 1, cover: 'hard' },
      { book_id: 4, publisher: null, edition: null, cover: null },
    ]);
  });

  it('indexes JSON arrays with a numeric key', async () => {
    const rows = await getJson(s, '/api/authors?select=first_genre:profile->genres->>0,hugos:profile->awards->hugo&author_id=eq.1');
    expect(rows).toEqual([{ first_genre: 'sf', hugos: 5 }]);
  });

  it('answers an empty list, not an error, when nothing matches', async () => {
    expect(await getJson(s, '/api/books?year=gt.3000')).toEqual([]);
  });

  it('serves views like tables', async () => {
    const rows = await getJson(s, '/api/author_stats?select=name,book_count,first_year,last_year&author_id=in.(1,8)&order=author_id');
    expect(rows).toEqual([
      { name: 'Ursula K. Le Guin', book_count: 4, first_year: 1968, last_year: 1974 },
      { name: 'Ada Unpublished', book_count: 0, first_year: null, last_year: null },
    ]);
  });

  it('serves the definition tables through the same path', async () => {
    const rows = await getJson(s, '/api/actions?select=action_name,kind,target&order=action_name');
    expect(rows).toEqual([
      { action_name: 'annualise', kind: 'plugin', target: 'finance.annualise' },
      { action_name: 'books_by_author', kind: 'sql_function', target: 'app.books_by_author' },
    ]);
  });
});

describe('embedding', () => {
  it('embeds the parent of a many-to-one foreign key as an object', async () => {
    const rows = await getJson(s, '/api/books?select=title,authors(name,country)&book_id=in.(1,9)&order=book_id');
    expect(rows).toEqual([
      { title: 'A Wizard of Earthsea', authors: { name: 'Ursula K. Le Guin', country: 'US' } },
      { title: 'Invisible Cities', authors: { name: 'Italo Calvino', country: 'IT' } },
    ]);
  });

  it('embeds the children of a one-to-many foreign key as an array, empty when there are none', async () => {
    const rows = await getJson(s, '/api/authors?select=name,books(book_id)&author_id=in.(3,8)&order=author_id&books.order=book_id');
    expect(rows).toEqual([
      { name: 'Italo Calvino', books: [{ book_id: 9 }, { book_id: 10 }] },
      { name: 'Ada Unpublished', books: [] },
    ]);
  });

  it('embeds all columns of the related row with rel(*) or rel()', async () => {
    const [star] = await getJson(s, '/api/books?select=book_id,authors(*)&book_id=eq.15');
    expect(star.authors).toEqual({ author_id: 6, name: 'Anonymous', country: null, born: null, profile: {} });
    const [empty] = await getJson(s, '/api/books?select=book_id,authors()&book_id=eq.15');
    expect(empty.authors).toEqual(star.authors);
  });

  it('embeds many-to-many through the junction table, in both directions', async () => {
    const [book] = await getJson(s, '/api/books?select=title,tags(name)&book_id=eq.16&tags.order=name');
    expect(book).toEqual({ title: 'Ficciones', tags: [{ name: 'short stories' }, { name: 'translated' }] });
    const [tag] = await getJson(s, '/api/tags?select=name,books(book_id)&name=eq.short stories&books.order=book_id');
    expect(tag).toEqual({ name: 'short stories', books: [{ book_id: 16 }, { book_id: 17 }, { book_id: 18 }] });
  });

  it('names the junction table as a hint, and embeds the junction itself as a plain child', async () => {
    const [tag] = await getJson(s, '/api/tags?select=books!book_tags(book_id)&tag_id=eq.4&books.order=book_id');
    expect(pluck(tag.books as Record<string, unknown>[], 'book_id')).toEqual([1, 5, 6, 7, 8]);
    const [book] = await getJson(s, '/api/books?select=book_tags(tag_id)&book_id=eq.1&book_tags.order=tag_id');
    expect(book.book_tags).toEqual([{ tag_id: 1 }, { tag_id: 4 }]);
  });

  it('renames an embedded relation with alias:relation', async () => {
    const rows = await getJson(s, '/api/books?select=title,writer:authors(name)&book_id=eq.13');
    expect(rows).toEqual([{ title: 'Solaris', writer: { name: 'Stanisław Lem' } }]);
  });

  it('nests embeddings several levels deep', async () => {
    const rows = await getJson(s, '/api/reviews?select=rating,books(title,authors(name),tags(name))&review_id=eq.9');
    expect(rows).toEqual([{ rating: 4.9, books: { title: 'Invisible Cities', authors: { name: 'Italo Calvino' }, tags: [{ name: 'translated' }] } }]);
  });

  it('disambiguates two foreign keys to one table with the constraint name or the column as hint', async () => {
    const rows = await getJson(s, '/api/loans?select=loan_id,borrower:members!loans_member_id_fkey(name),approver:members!approved_by(name)&order=loan_id');
    expect(rows).toEqual([
      { loan_id: 1, borrower: { name: 'Otto Reader' }, approver: { name: 'Mira Librarian' } },
      { loan_id: 2, borrower: { name: 'Pia Student' }, approver: { name: 'Mira Librarian' } },
      { loan_id: 3, borrower: { name: 'Otto Reader' }, approver: null },
      { loan_id: 4, borrower: { name: 'Quinn Visitor' }, approver: { name: 'Mira Librarian' } },
    ]);
  });

  it('uses the hint in the one-to-many direction too', async () => {
    const [m] = await getJson(s, '/api/members?select=name,approved:loans!approved_by(loan_id),borrowed:loans!loans_member_id_fkey(loan_id)&member_id=eq.1&approved.order=loan_id');
    expect(m).toEqual({ name: 'Mira Librarian', approved: [{ loan_id: 1 }, { loan_id: 2 }, { loan_id: 4 }], borrowed: [] });
  });

  it('refuses an ambiguous embedding with 300 and lists the choices', async () => {
    const err = await expectApiError(await s.http('/api/loans?select=*,members(name)'), 300, 'C203');
    const options = (err.details!.options as { hint: string }[]).map((o) => o.hint).sort();
    expect(options).toEqual(['loans_approved_by_fkey', 'loans_member_id_fkey']);
    expect(err.hint).toContain('members!loans_member_id_fkey');
  });

  it('refuses a relation with no foreign key, naming the ones that exist', async () => {
    const err = await expectApiError(await s.http('/api/authors?select=name,loans(*)'), 400, 'C202');
    expect(err.details).toMatchObject({ entity: 'authors', relation: 'loans', related: ['books'] });
    await expectApiError(await s.http('/api/books?select=title,authors!no_such_fkey(name)'), 400, 'C202');
  });

  it('filters parents by their embedded children with !inner', async () => {
    const rows = await getJson(s, '/api/authors?select=name,books!inner(title)&books.year=gt.2000&books.order=title');
    expect(rows).toEqual([{ name: 'Terry Pratchett', books: [{ title: 'Going Postal' }, { title: 'Night Watch' }] }]);
  });

  it('without !inner, an embedded filter empties the embedding but keeps the parent', async () => {
    const rows = await getJson(s, '/api/books?select=book_id,authors(name)&authors.name=eq.Terry Pratchett&book_id=in.(1,5)&order=book_id');
    expect(rows).toEqual([{ book_id: 1, authors: null }, { book_id: 5, authors: { name: 'Terry Pratchett' } }]);
    const inner = await getJson(s, '/api/books?select=book_id,authors!inner(name)&authors.name=eq.Terry Pratchett&book_id=in.(1,5)&order=book_id');
    expect(inner).toEqual([{ book_id: 5, authors: { name: 'Terry Pratchett' } }]);
  });

  it('addresses embedded filters by the alias', async () => {
    const rows = await getJson(s, '/api/books?select=book_id,writer:authors!inner(name)&writer.country=eq.IT&order=book_id');
    expect(rows).toEqual([
      { book_id: 9, writer: { name: 'Italo Calvino' } },
      { book_id: 10, writer: { name: 'Italo Calvino' } },
    ]);
  });

  it('applies !inner through nested levels', async () => {
    const rows = await getJson(s, '/api/authors?select=name,books!inner(book_id,tags!inner(name))&books.tags.name=eq.short stories&books.order=book_id');
    expect(rows).toEqual([{
      name: 'Jorge Luis Borges',
      books: [16, 17, 18].map((id) => ({ book_id: id, tags: [{ name: 'short stories' }] })),
    }]);
  });

  it('checks the order columns of a to-one embedding too', async () => {
    const err = await expectApiError(await s.http('/api/books?select=title,authors(name)&authors.order=nme'), 400, 'C201');
    expect(err.details).toMatchObject({ entity: 'authors', column: 'nme', did_you_mean: 'name' });
  });

  it('refuses a filter two relations deep that the select does not embed', async () => {
    const err = await expectApiError(await s.http('/api/authors?select=name&books.reviews.rating=gt.2'), 400, 'C100');
    expect(err.details).toMatchObject({ path: 'books.reviews' });
  });
});
