import { describe, expect, it } from 'vitest';
import { compilePipe, renderPipe } from './compile.js';
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

  it('refuses reserved names and unknown functions at load time', () => {
    expect(() => pipe('SELECT {{ String(token) }}')).toThrow(/reserved/);
    expect(() => pipe('SELECT {{ eval(x) }}')).toThrow(/unknown template function eval/);
    expect(() => pipe('SELECT {{ sql_and(password=String(x)) }}')).toThrow(/known column/);
    expect(() => pipe("SELECT {{ Int8(x, 'abc') }}")).toThrow(/default of "x"/);
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
