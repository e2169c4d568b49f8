// The URL grammar parser on its own: no database, no server.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import type { FilterNode, LogicNode } from './ast.ts';
import { parseField, parseLogic, parseOrder, parseQuery, parseSelect, splitTop, unquote } from './query.ts';

/** The registry code of the ApiError fn throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return (e as ApiError).code;
  }
  throw new Error('expected an ApiError, nothing was thrown');
}

const q = (query: string) => parseQuery([...new URLSearchParams(query).entries()]);
const rootFilters = (query: string) => q(query).scopes.get('')!.conditions;

describe('splitTop and unquote', () => {
  it('splits at depth 0 only, keeping quoted text whole', () => {
    expect(splitTop('a,b(c,d),e')).toEqual(['a', 'b(c,d)', 'e']);
    expect(splitTop('"x,y",z')).toEqual(['"x,y"', 'z']);
    expect(splitTop('"a)b",c')).toEqual(['"a)b"', 'c']);
    expect(splitTop('"say \\"hi\\", then go",x')).toEqual(['"say \\"hi\\", then go"', 'x']);
    expect(splitTop('')).toEqual(['']);
  });

  it('refuses unbalanced parentheses and unterminated quotes with C100', () => {
    expect(codeOf(() => splitTop('a)b'))).toBe('C100');
    expect(codeOf(() => splitTop('a(b'))).toBe('C100');
    expect(codeOf(() => splitTop('"abc'))).toBe('C100');
  });

  it('unquote strips one pair of double quotes and resolves backslash escapes', () => {
    expect(unquote('"a,b"')).toBe('a,b');
    expect(unquote('"say \\"hi\\""')).toBe('say "hi"');
    expect(unquote('"back\\\\slash"')).toBe('back\\slash');
    expect(unquote('plain')).toBe('plain');
    expect(unquote('"')).toBe('"');
  });
});

describe('parseField', () => {
  it('reads a column with JSON steps', () => {
    expect(parseField('details', 'x')).toEqual({ name: 'details', json: [] });
    expect(parseField('details->format->>cover', 'x')).toEqual({
      name: 'details', json: [{ arrow: '->', key: 'format' }, { arrow: '->>', key: 'cover' }],
    });
    expect(parseField("details->'a b'->0", 'x').json).toEqual([{ arrow: '->', key: 'a b' }, { arrow: '->', key: '0' }]);
  });

  it('refuses names that are not identifiers and empty steps with C100', () => {
    expect(codeOf(() => parseField('ti tle', 'select'))).toBe('C100');
    expect(codeOf(() => parseField('a;drop', 'select'))).toBe('C100');
    expect(codeOf(() => parseField('1abc', 'select'))).toBe('C100');
    expect(codeOf(() => parseField('details->', 'select'))).toBe('C100');
  });
});

describe('parseSelect', () => {
  it('reads columns, star, aliases and casts', () => {
    expect(parseSelect('*,id,n:name,price::text,p:price::numeric,tags::text[]')).toEqual([
      { kind: 'star' },
      { kind: 'field', field: { name: 'id', json: [] }, alias: undefined, cast: undefined },
      { kind: 'field', field: { name: 'name', json: [] }, alias: 'n', cast: undefined },
      { kind: 'field', field: { name: 'price', json: [] }, alias: undefined, cast: 'text' },
      { kind: 'field', field: { name: 'price', json: [] }, alias: 'p', cast: 'numeric' },
      { kind: 'field', field: { name: 'tags', json: [] }, alias: undefined, cast: 'text[]' },
    ]);
  });

  it('accepts SQL multi-word type names as casts', () => {
    for (const t of ['double precision', 'character varying', 'timestamp with time zone', 'time without time zone']) {
      expect(parseSelect(`x::${t}`)).toEqual([{ kind: 'field', field: { name: 'x', json: [] }, alias: undefined, cast: t }]);
    }
  });

  it('reads JSON paths, with and without an alias and cast', () => {
    expect(parseSelect('details->publisher,c:details->format->>cover,e:details->>edition::int')).toEqual([
      { kind: 'field', field: { name: 'details', json: [{ arrow: '->', key: 'publisher' }] }, alias: undefined, cast: undefined },
      { kind: 'field', field: { name: 'details', json: [{ arrow: '->', key: 'format' }, { arrow: '->>', key: 'cover' }] }, alias: 'c', cast: undefined },
      { kind: 'field', field: { name: 'details', json: [{ arrow: '->>', key: 'edition' }] }, alias: 'e', cast: 'int' },
    ]);
  });

  it('reads embedded relations with alias, hint and !inner, nested', () => {
    expect(parseSelect('title,writer:authors!books_author_id_fkey!inner(name,books(title,tags(*))),tags()')).toEqual([
      { kind: 'field', field: { name: 'title', json: [] }, alias: undefined, cast: undefined },
      {
        kind: 'embed', relation: 'authors', alias: 'writer', hint: 'books_author_id_fkey', inner: true,
        select: [
          { kind: 'field', field: { name: 'name', json: [] }, alias: undefined, cast: undefined },
          {
            kind: 'embed', relation: 'books', alias: undefined, hint: undefined, inner: false,
            select: [
              { kind: 'field', field: { name: 'title', json: [] }, alias: undefined, cast: undefined },
              { kind: 'embed', relation: 'tags', alias: undefined, hint: undefined, inner: false, select: [{ kind: 'star' }] },
            ],
          },
        ],
      },
      { kind: 'embed', relation: 'tags', alias: undefined, hint: undefined, inner: false, select: [] },
    ]);
  });

  it('treats !left as the default and ignores spaces and empty items', () => {
    expect(parseSelect(' id , authors!left(name) ,')).toEqual([
      { kind: 'field', field: { name: 'id', json: [] }, alias: undefined, cast: undefined },
      { kind: 'embed', relation: 'authors', alias: undefined, hint: undefined, inner: false, select: [{ kind: 'field', field: { name: 'name', json: [] }, alias: undefined, cast: undefined }] },
    ]);
  });

  it('refuses malformed selects with C102 (C100 for names and parentheses)', () => {
    expect(codeOf(() => parseSelect(''))).toBe('C102');
    expect(codeOf(() => parseSelect(' , '))).toBe('C102');
    expect(codeOf(() => parseSelect('authors(name)x'))).toBe('C102');
    expect(codeOf(() => parseSelect('authors!bad-hint(name)'))).toBe('C102');
    expect(codeOf(() => parseSelect('...authors(name)'))).toBe('C102');
    expect(codeOf(() => parseSelect('bad alias:name'))).toBe('C102');
    expect(codeOf(() => parseSelect('name::text foo'))).toBe('C102');
    expect(codeOf(() => parseSelect('name::text;drop'))).toBe('C102');
    expect(codeOf(() => parseSelect('name::Text'))).toBe('C102');
    expect(codeOf(() => parseSelect('authors(name'))).toBe('C100');
    expect(codeOf(() => parseSelect('na me'))).toBe('C100');
  });
});

describe('filters', () => {
  it('reads column=op.value with every operator', () => {
    const ops = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'isdistinct', 'cs', 'cd', 'ov', 'fts', 'plfts', 'phfts', 'wfts'];
    for (const op of ops) {
      const [f] = rootFilters(`col=${op}.v.w`) as FilterNode[];
      expect(f).toMatchObject({ kind: 'filter', field: { name: 'col' }, negate: false, op, value: 'v.w' });
    }
  });

  it('reads not., is values, fts configuration and JSON paths', () => {
    expect(rootFilters('a=not.eq.1')[0]).toMatchObject({ op: 'eq', negate: true, value: '1' });
    expect(rootFilters('a=is.NULL')[0]).toMatchObject({ op: 'is', value: 'NULL' });
    expect(rootFilters('a=not.is.not_null')[0]).toMatchObject({ op: 'is', negate: true, value: 'not_null' });
    expect(rootFilters('body=wfts(english).cat -dog')[0]).toMatchObject({ op: 'wfts', config: 'english', value: 'cat -dog' });
    expect(rootFilters('details->format->>cover=eq.hard')[0]).toMatchObject({
      field: { name: 'details', json: [{ arrow: '->', key: 'format' }, { arrow: '->>', key: 'cover' }] }, value: 'hard',
    });
  });

  it('keeps the value after the first dot verbatim, quotes only when they wrap it', () => {
    expect(rootFilters('a=eq.1.5.x')[0]).toMatchObject({ value: '1.5.x' });
    expect(rootFilters('a=eq."q,r"')[0]).toMatchObject({ value: 'q,r' });
    expect(rootFilters('a=eq.The "Lost" Ballad')[0]).toMatchObject({ value: 'The "Lost" Ballad' });
    expect(rootFilters('a=eq.')[0]).toMatchObject({ value: '' });
  });

  it('reads in-lists with quoted items holding commas, parentheses and quotes', () => {
    expect(rootFilters('a=in.(1,2,3)')[0]).toMatchObject({ op: 'in', value: ['1', '2', '3'] });
    expect(rootFilters('a=in.("x,y","(z)",plain,"say \\"hi\\"")')[0]).toMatchObject({ value: ['x,y', '(z)', 'plain', 'say "hi"'] });
    expect(rootFilters('a=in.()')[0]).toMatchObject({ value: [] });
    expect(rootFilters('a=not.in.(1)')[0]).toMatchObject({ negate: true, value: ['1'] });
  });

  it('keeps every filter, repeated columns included, with its source for errors', () => {
    const fs = rootFilters('a=gte.1&a=lt.5') as FilterNode[];
    expect(fs.map((f) => [f.op, f.value, f.source])).toEqual([['gte', '1', 'a=gte.1'], ['lt', '5', 'a=lt.5']]);
  });

  it('refuses bad operators with C101 and malformed filters with C100', () => {
    expect(codeOf(() => q('a=approx.1'))).toBe('C101');
    expect(codeOf(() => q('a=EQ.1'))).toBe('C101');
    expect(codeOf(() => q('a=fts(bad-config).x'))).toBe('C101');
    expect(codeOf(() => q('a=eq'))).toBe('C100');
    expect(codeOf(() => q('a'))).toBe('C100');
    expect(codeOf(() => q('a=is.maybe'))).toBe('C100');
    expect(codeOf(() => q('a=in.1,2'))).toBe('C100');
    expect(codeOf(() => q('a=in.(1,"2)'))).toBe('C100');
    expect(codeOf(() => q('a b=eq.1'))).toBe('C100');
  });
});

describe('parseLogic', () => {
  it('reads flat and nested trees, with not. on groups and items', () => {
    const t = parseLogic('or', false, '(a.eq.1,not.and(b.gt.2,c.not.is.null),or(d.in.(1,2),e.like.*x*))', 'or');
    expect(t.op).toBe('or');
    expect(t.children).toHaveLength(3);
    expect(t.children[0]).toMatchObject({ kind: 'filter', field: { name: 'a' }, op: 'eq', value: '1' });
    const and = t.children[1] as LogicNode;
    expect(and).toMatchObject({ kind: 'logic', op: 'and', negate: true });
    expect(and.children).toMatchObject([{ op: 'gt', value: '2' }, { op: 'is', negate: true, value: 'null' }]);
    const or = t.children[2] as LogicNode;
    expect(or).toMatchObject({ kind: 'logic', op: 'or', negate: false });
    expect(or.children).toMatchObject([{ op: 'in', value: ['1', '2'] }, { op: 'like', value: '*x*' }]);
  });

  it('takes quoted values holding commas, parentheses and escaped quotes', () => {
    const t = parseLogic('or', false, '(title.eq."Labyrinths (Stories, Essays)",title.eq."The \\"Lost\\" Ballad",title.in.("a,b",c))', 'or');
    expect(t.children.map((c) => (c as FilterNode).value)).toEqual(['Labyrinths (Stories, Essays)', 'The "Lost" Ballad', ['a,b', 'c']]);
  });

  it('reads JSON paths and fts configurations inside trees', () => {
    const t = parseLogic('and', false, '(details->format->>cover.eq.hard,summary.fts(english).wizard)', 'and');
    expect(t.children[0]).toMatchObject({ field: { name: 'details', json: [{ key: 'format' }, { key: 'cover' }] }, op: 'eq', value: 'hard' });
    expect(t.children[1]).toMatchObject({ field: { name: 'summary' }, op: 'fts', config: 'english', value: 'wizard' });
  });

  it('trims spaces around items', () => {
    const t = parseLogic('or', false, '( a.eq.1 , b.eq.2 )', 'or');
    expect(t.children.map((c) => (c as FilterNode).field.name)).toEqual(['a', 'b']);
  });

  it('refuses malformed trees with C104, bad operators with C101', () => {
    expect(codeOf(() => parseLogic('or', false, 'a.eq.1', 'or'))).toBe('C104');
    expect(codeOf(() => parseLogic('or', false, '()', 'or'))).toBe('C104');
    expect(codeOf(() => parseLogic('or', false, '(a)', 'or'))).toBe('C104');
    expect(codeOf(() => parseLogic('or', false, '(a.eq.1,)', 'or'))).toBe('C104');
    expect(codeOf(() => parseLogic('or', false, '(a.xx.1)', 'or'))).toBe('C101');
    expect(codeOf(() => parseLogic('or', false, '((a.eq.1)', 'or'))).toBe('C100');
  });
});

describe('parseOrder', () => {
  it('reads terms with direction and nulls placement', () => {
    expect(parseOrder('a,b.desc,c.asc.nullslast,d.nullsfirst,details->>x.desc', 'order')).toEqual([
      { field: { name: 'a', json: [] }, dir: 'asc', nulls: undefined },
      { field: { name: 'b', json: [] }, dir: 'desc', nulls: undefined },
      { field: { name: 'c', json: [] }, dir: 'asc', nulls: 'last' },
      { field: { name: 'd', json: [] }, dir: 'asc', nulls: 'first' },
      { field: { name: 'details', json: [{ arrow: '->>', key: 'x' }] }, dir: 'desc', nulls: undefined },
    ]);
  });

  it('refuses unknown modifiers with C103 and bad names with C100', () => {
    expect(codeOf(() => parseOrder('a.sideways', 'order'))).toBe('C103');
    expect(codeOf(() => parseOrder('a.desc.x', 'order'))).toBe('C103');
    expect(codeOf(() => parseOrder('a;drop', 'order'))).toBe('C100');
  });
});

describe('parseQuery', () => {
  it('defaults to select=* and one empty root scope', () => {
    const r = q('');
    expect(r.select).toEqual([{ kind: 'star' }]);
    expect([...r.scopes.keys()]).toEqual(['']);
    expect(r.scopes.get('')).toEqual({ conditions: [] });
  });

  it('reads root limit, offset, order and logic', () => {
    const r = q('limit=10&offset=20&order=a.desc&or=(a.eq.1,b.eq.2)&not.and=(c.eq.3,d.eq.4)');
    const root = r.scopes.get('')!;
    expect(root.limit).toBe(10);
    expect(root.offset).toBe(20);
    expect(root.order).toMatchObject([{ field: { name: 'a' }, dir: 'desc' }]);
    expect(root.conditions).toMatchObject([{ kind: 'logic', op: 'or', negate: false }, { kind: 'logic', op: 'and', negate: true }]);
  });

  it('scopes filters, order, limit, offset and logic to embedded paths', () => {
    const r = q('select=name,books(title,reviews(rating))&books.year=gt.2000&books.order=title.desc&books.limit=2&books.offset=1&books.reviews.rating=gte.4&books.not.or=(a.eq.1,b.eq.2)&books.details->>x=eq.y');
    const books = r.scopes.get('books')!;
    expect(books.limit).toBe(2);
    expect(books.offset).toBe(1);
    expect(books.order).toMatchObject([{ field: { name: 'title' }, dir: 'desc' }]);
    expect(books.conditions).toMatchObject([
      { kind: 'filter', field: { name: 'year' }, op: 'gt', value: '2000' },
      { kind: 'logic', op: 'or', negate: true },
      { kind: 'filter', field: { name: 'details', json: [{ arrow: '->>', key: 'x' }] }, value: 'y' },
    ]);
    expect(r.scopes.get('books.reviews')!.conditions).toMatchObject([{ field: { name: 'rating' }, op: 'gte', value: '4' }]);
  });

  it('reads on_conflict and columns lists', () => {
    const r = q('on_conflict=a, b&columns=x,y');
    expect(r.onConflict).toEqual(['a', 'b']);
    expect(r.columns).toEqual(['x', 'y']);
  });

  it('refuses bad limits and offsets with C107 and select inside an embedding with C100', () => {
    expect(codeOf(() => q('limit=-1'))).toBe('C107');
    expect(codeOf(() => q('limit=1.5'))).toBe('C107');
    expect(codeOf(() => q('offset=abc'))).toBe('C107');
    expect(codeOf(() => q('limit=1000000000000'))).toBe('C107');
    expect(codeOf(() => q('books.limit=x'))).toBe('C107');
    expect(codeOf(() => q('books.select=title'))).toBe('C100');
    expect(codeOf(() => q('on_conflict=a;b'))).toBe('C100');
  });

  it('refuses a malformed order, select or tree with its own code', () => {
    expect(codeOf(() => q('order=a.up'))).toBe('C103');
    expect(codeOf(() => q('select='))).toBe('C102');
    expect(codeOf(() => q('or=a.eq.1'))).toBe('C104');
    expect(codeOf(() => q('books.and=()'))).toBe('C104');
  });

  it('attaches details that say where the fault is', () => {
    try {
      q('year=approx.1');
      throw new Error('not thrown');
    } catch (e) {
      expect((e as ApiError).details).toEqual({ parameter: 'year=approx.1', operator: 'approx' });
      expect((e as ApiError).status).toBe(400);
      expect((e as ApiError).hint).toContain('eq, neq');
    }
  });
});
