import { describe, expect, it } from 'vitest';
import { compilePipe, linkPipes, renderPipe } from './compile.js';
import { parseDatafile } from './datafile.js';
import { RequestError, TemplateSyntaxError } from './errors.js';
import { parseExpression, parseTemplate } from './template-parser.js';

const pipe = (sql: string) =>
  compilePipe(
    't',
    't.pipe',
    parseDatafile(
      `NODE n\nSQL >\n    %\n${sql
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}\nTYPE endpoint\n`,
    ),
  );
const render = (sql: string, q: Record<string, string | string[]> = {}) =>
  renderPipe(pipe(sql), new Map(Object.entries(q).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])));
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('expression parser', () => {
  it('follows Python precedence: not > and > or, comparisons, arithmetic', () => {
    expect(parseExpression('a or b and not c')).toEqual({
      kind: 'binary',
      op: 'or',
      left: { kind: 'name', name: 'a' },
      right: {
        kind: 'binary',
        op: 'and',
        left: { kind: 'name', name: 'b' },
        right: { kind: 'unary', op: 'not', arg: { kind: 'name', name: 'c' } },
      },
    });
    expect(parseExpression('x not in [1, 2]')).toMatchObject({ kind: 'binary', op: 'not in' });
    expect(parseExpression("f(a, 'b', k=1)")).toMatchObject({
      kind: 'call',
      fn: 'f',
      kwargs: { k: { kind: 'lit', value: 1 } },
    });
  });

  it('rejects what it does not understand, with the line', () => {
    expect(() => parseExpression('a +', 7)).toThrow(TemplateSyntaxError);
    expect(() => parseExpression('a.b')).toThrow(/attribute/);
    expect(() => parseExpression('__import__("os")()')).toThrow(/only named functions/);
    try {
      parseTemplate('SELECT 1\n{% if x %}\nWHERE 1', 10);
    } catch (e) {
      expect((e as TemplateSyntaxError).line).toBe(11);
    }
  });
});

describe('rendering', () => {
  it('binds every value as a typed placeholder, never as text', () => {
    const r = render('SELECT * FROM t WHERE a = {{ String(a) }} AND b > {{ Int32(b, 5) }}', {
      a: "x' OR 1=1 --",
    });
    expect(squash(r.sql)).toBe('SELECT * FROM t WHERE a = {p_a:String} AND b > {p_b:Int32}');
    expect(r.params).toEqual({ p_a: "x' OR 1=1 --", p_b: 5 });
  });

  it('if / elif / else / defined / set / for', () => {
    const sql = `{% set g = String(g, 'day', enum=['hour', 'day']) %}
SELECT {% if g == 'hour' %}h{% elif g == 'day' %}d{% else %}x{% end %}
{% if defined(f) and not defined(z) %}WHERE f = {{ String(f) }}{% end %}
{% for c in ['a', 'b'] %}, {{ c }}{% end %}`;
    expect(squash(render(sql).sql)).toBe('SELECT d , {p_t0:String}, {p_t1:String}');
    const r = render(sql, { g: 'hour', f: 'v' });
    expect(squash(r.sql)).toBe('SELECT h WHERE f = {p_f:String} , {p_t0:String}, {p_t1:String}');
    expect(r.params).toMatchObject({ p_f: 'v', p_t0: 'a', p_t1: 'b' });
  });

  it('Array takes comma lists and repeated keys; sql_and builds conditions and skips missing ones', () => {
    const sql =
      "SELECT 1 WHERE {{ sql_and(feature_id__in=Array(f, 'String'), events__gte=UInt64(n), user_id=String(u)) }}";
    expect(render(sql, { f: 'a,b' }).params).toEqual({ p_f: ['a', 'b'] });
    const r = render(sql, { f: ['a', 'b,c'], n: '3' });
    expect(squash(r.sql)).toBe(
      'SELECT 1 WHERE `feature_id` IN {p_f:Array(String)} AND `events` >= {p_n:UInt64}',
    );
    expect(r.params).toEqual({ p_f: ['a', 'b', 'c'], p_n: 3 });
    expect(squash(render(sql).sql)).toBe('SELECT 1 WHERE 1');
  });

  it('column() accepts only known columns', () => {
    const sql = "SELECT * FROM t ORDER BY {{ column(order_by, 'events') }}";
    expect(squash(render(sql).sql)).toBe('SELECT * FROM t ORDER BY `events`');
    expect(squash(render(sql, { order_by: 'user_id' }).sql)).toBe('SELECT * FROM t ORDER BY `user_id`');
    expect(() => render(sql, { order_by: 'user_id; DROP TABLE x' })).toThrow(/not a known column/);
    expect(squash(render("SELECT {{ columns('feature_id,events') }}").sql)).toBe(
      'SELECT `feature_id`, `events`',
    );
  });

  it('validates values with a message naming parameter, type and example', () => {
    const sql =
      '{{ DateTime(d, example="2023-09-01 00:00:00") }} {{ UInt8(n) }} {{ String(req, required=True) }}';
    expect(() => render(sql, { d: 'yesterday', req: 'x' })).toThrow(
      /"d": expected DateTime.*Example: d=2023-09-01 00:00:00/,
    );
    expect(() => render(sql, { n: '300', req: 'x' })).toThrow(
      /"n": expected UInt8, an integer from 0 to 255/,
    );
    expect(() => render(sql)).toThrow(/Missing required parameter "req"/);
    expect(() => render('{{ Int32(x) }}')).toThrow(RequestError);
  });

  it('error(), day_diff and date_diff helpers; hints render to nothing', () => {
    const sql = `{% if day_diff(DateTime(s), DateTime(e)) > 31 %}{{ error('window longer than 31 days', 400) }}{% end %}
SELECT {{ date_diff_in_hours(DateTime(s), DateTime(e)) }} {{ cache_ttl('5s') }}`;
    expect(() => render(sql, { s: '2024-01-01 00:00:00', e: '2024-03-01 00:00:00' })).toThrow(
      'window longer than 31 days',
    );
    const r = render(sql, { s: '2024-01-01 00:00:00', e: '2024-01-02 06:00:00' });
    expect(squash(r.sql)).toBe('SELECT {p_t0:Int64}');
    expect(r.params.p_t0).toBe(30);
  });

  it("date_diff_* read date_format, backup_date_format and none_if_error as Tinybird's docs say", () => {
    const one = (expr: string, q: Record<string, string> = {}) => {
      const r = render(`SELECT {{ ${expr} }}`, q);
      return r.params.p_t0 ?? (r.sql.includes('NULL') ? null : undefined);
    };
    expect(
      one(
        "date_diff_in_seconds('2022-12-19T18:42:23.521Z', '2022-12-19T18:44:23.531Z', '%Y-%m-%dT%H:%M:%S.%fz')",
      ),
    ).toBe(120);
    expect(
      one(
        "date_diff_in_hours('2022-12-19T03:22:12.102Z', '2022-12-19', date_format='%Y-%m-%dT%H:%M:%S.%fz', backup_date_format='%Y-%m-%d')",
      ),
    ).toBe(3);
    expect(one("date_diff_in_days('2019-01-01', '2019/01/04', backup_date_format='%Y/%m/%d')")).toBe(3);
    expect(one("date_diff_in_minutes('2022-12-14 18:42:22', '2022-12-19 18:42:22')")).toBe(7200);
    expect(
      one("date_diff_in_seconds('2022/12/19 00:00:03', '2022-10-19 00:05:03', none_if_error=True)"),
    ).toBeNull();
    expect(() =>
      render("SELECT {{ date_diff_in_seconds('2022/12/19 00:00:03', '2022-10-19 00:05:03') }}"),
    ).toThrow(/does not match the date format/);
    // A format that does not match a value is an error even when the default would have.
    expect(() => render("SELECT {{ date_diff_in_days('2019-01-01', '2019-01-02', '%Y/%m/%d') }}")).toThrow(
      RequestError,
    );
    // Typed parameters feed them like literals do.
    expect(
      one("date_diff_in_hours(String(a), String(b), '%d.%m.%Y %H:%M')", {
        a: '19.12.2022 18:00',
        b: '20.12.2022 20:30',
      }),
    ).toBe(26);
  });

  it('enum_with_default keeps an allowed value bound and swaps anything else for the default', () => {
    const sql = "SELECT {{ enum_with_default(String(kind, 'all'), ['all', 'new', 'old'], 'all') }}";
    const ok = render(sql, { kind: 'new' });
    expect(squash(ok.sql)).toBe('SELECT {p_kind:String}');
    expect(ok.params.p_kind).toBe('new');
    const other = render(sql, { kind: "x' OR 1=1" });
    expect(Object.values(other.params)).toEqual(['all']);
    expect(Object.values(render(sql).params)).toEqual(['all']);
  });

  it('sql_unescape passes the value bound (a bound % is already a LIKE wildcard)', () => {
    const r = render("SELECT * FROM t WHERE name LIKE {{ sql_unescape(String(name_like, '%'), '%') }}", {
      name_like: "a%'b",
    });
    expect(squash(r.sql)).toBe('SELECT * FROM t WHERE name LIKE {p_name_like:String}');
    expect(r.params.p_name_like).toBe("a%'b");
  });

  it('tb_secret binds the server secret, falls back to its default, or says which variable to set', () => {
    const p = pipe("SELECT {{ tb_secret('api_key') }}, {{ tb_secret('other', 'dflt') }}");
    const r = renderPipe(p, new Map(), { secrets: new Map([['api_key', "s3cr'et"]]) });
    expect(squash(r.sql)).toBe('SELECT {p_secret_api_key:String}, {p_t0:String}');
    expect(r.params).toEqual({ p_secret_api_key: "s3cr'et", p_t0: 'dflt' });
    expect(() => renderPipe(pipe("SELECT {{ tb_secret('nope') }}"), new Map())).toThrow(/TB_SECRET_nope/);
  });

  it('column(), columns() and sql_and are checked against the columns of the tables the pipe reads', () => {
    const tables = new Map([
      ['orders', ['id', 'amount', 'country']],
      ['other', ['secret_col']],
    ]);
    const src = (sql: string) => parseDatafile(`NODE n\nSQL >\n    %\n    ${sql}\nTYPE endpoint\n`);
    const p = compilePipe(
      'p',
      'p.pipe',
      src(
        "SELECT {{ columns(cols, 'id') }}, sum(amount) AS total FROM orders WHERE {{ sql_and(country=String(c)) }} ORDER BY {{ column(o, 'total') }}",
      ),
      tables,
    );
    const r = renderPipe(
      p,
      new Map([
        ['cols', ['id,country']],
        ['o', ['amount']],
        ['c', ['ES']],
      ]),
    );
    expect(squash(r.sql)).toBe(
      'SELECT `id`, `country`, sum(amount) AS total FROM orders WHERE `country` = {p_c:String} ORDER BY `amount`',
    );
    // A column of a table the pipe does not read, or of no table, is refused.
    expect(() => renderPipe(p, new Map([['o', ['secret_col']]]))).toThrow(/not a known column/);
    expect(() => renderPipe(p, new Map([['cols', ['id,`x`']]]))).toThrow(/not a known column/);
    expect(() =>
      compilePipe(
        'q',
        'q.pipe',
        src('SELECT 1 FROM orders WHERE {{ sql_and(secret_col=String(x)) }}'),
        tables,
      ),
    ).toThrow(/known column/);
  });

  it('refuses reserved names and unknown functions at load time', () => {
    expect(() => pipe('SELECT {{ String(token) }}')).toThrow(/reserved/);
    expect(() => pipe('SELECT {{ eval(x) }}')).toThrow(/unknown template function eval/);
    expect(() => pipe('SELECT {{ sql_and(password=String(x)) }}')).toThrow(/known column/);
    expect(() => pipe("SELECT {{ Int8(x, 'abc') }}")).toThrow(/default of "x"/);
  });

  it("lets a node read another pipe's endpoint, with one set of placeholders, and refuses cycles", () => {
    const mk = (name: string, sql: string) =>
      compilePipe(name, `${name}.pipe`, parseDatafile(`NODE n\nSQL >\n    %\n    ${sql}\nTYPE endpoint\n`));
    const base = mk('base', "SELECT x FROM t WHERE a = {{ String(a, 'd') }} AND b = {{ Int32(b, 1) }}");
    const top = mk('top', "SELECT count() FROM base WHERE c = {{ String(c, 'z') }} AND {{ 1 + 1 }} = 2");
    // A column or alias named like a pipe is no reference to it.
    const alias = mk('alias', 'SELECT count() AS base, top FROM t');
    const pipes = new Map([
      ['base', base],
      ['top', top],
      ['alias', alias],
    ]);
    expect(linkPipes(pipes)).toEqual([]);
    expect(alias.uses).toEqual([]);
    expect(top.uses).toEqual([base]);
    const r = renderPipe(top, new Map([['a', ['A']]]));
    expect(squash(r.sql)).toBe(
      'WITH base AS ( SELECT x FROM t WHERE a = {p_a:String} AND b = {p_b:Int32} ) SELECT * FROM ( SELECT count() FROM base WHERE c = {p_c:String} AND {p_t0:Int64} = 2 )',
    );
    expect(r.params).toEqual({ p_a: 'A', p_b: 1, p_c: 'z', p_t0: 2 });
    const loop = new Map([
      ['p1', mk('p1', 'SELECT * FROM p2')],
      ['p2', mk('p2', 'SELECT * FROM p1')],
    ]);
    expect(linkPipes(loop).map((e) => e.message)).toEqual([
      'pipe p1 reads itself through other pipes: not served',
      'pipe p2 reads itself through other pipes: not served',
    ]);
  });

  it('composes nodes as CTEs, only those the endpoint reads', () => {
    const df = parseDatafile(`NODE base
SQL >
    SELECT 1 AS x
NODE unused
SQL >
    SELECT 2 AS y
NODE top
SQL >
    SELECT x FROM base
TYPE endpoint
`);
    const p = compilePipe('p', 'p.pipe', df);
    expect(squash(renderPipe(p, new Map()).sql)).toBe(
      'WITH base AS ( SELECT 1 AS x ) SELECT * FROM ( SELECT x FROM base )',
    );
  });
});
