import { TemplateSyntaxError } from './errors.js';
import { splitTemplate, type Token, tokenize } from './template-lexer.js';

export type Expr =
  | { kind: 'lit'; value: string | number | boolean | null }
  | { kind: 'name'; name: string }
  | { kind: 'list'; items: Expr[] }
  | { kind: 'dict'; entries: [Expr, Expr][] }
  | { kind: 'call'; fn: string; args: Expr[]; kwargs: Record<string, Expr>; line: number }
  | { kind: 'index'; target: Expr; index: Expr }
  | { kind: 'unary'; op: 'not' | '-'; arg: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'cond'; test: Expr; ifTrue: Expr; ifFalse: Expr };

export type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: Expr; line: number }
  | { kind: 'if'; branches: { test: Expr; body: TemplateNode[] }[]; otherwise: TemplateNode[]; line: number }
  | { kind: 'set'; name: string; expr: Expr; line: number }
  | { kind: 'for'; name: string; iter: Expr; body: TemplateNode[]; line: number };

const COMPARE = new Set(['==', '!=', '<', '>', '<=', '>=']);

/** Recursive-descent parser for template expressions; precedence as in Python. */
class ExprParser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly src: string,
    private readonly line: number,
  ) {}

  private get peek(): Token {
    return this.toks[this.i] as Token;
  }
  private fail(msg: string): never {
    throw new TemplateSyntaxError(`${msg} in "${this.src}"`, this.line);
  }
  private isOp(v: string) {
    return this.peek.kind === 'op' && this.peek.value === v;
  }
  private isWord(v: string) {
    return this.peek.kind === 'name' && this.peek.value === v;
  }
  private expect(v: string) {
    if (!this.isOp(v)) this.fail(`expected "${v}" at "${this.peek.value || 'end'}"`);
    this.i++;
  }

  parseAll(): Expr {
    const e = this.expr();
    if (this.peek.kind !== 'eof') this.fail(`unexpected "${this.peek.value}"`);
    return e;
  }

  expr(): Expr {
    const value = this.or();
    // Python's conditional expression: a if cond else b
    if (this.isWord('if')) {
      this.i++;
      const test = this.or();
      if (!this.isWord('else')) this.fail('expected "else" in conditional expression');
      this.i++;
      return { kind: 'cond', test, ifTrue: value, ifFalse: this.expr() };
    }
    return value;
  }
  private or(): Expr {
    let left = this.and();
    while (this.isWord('or')) {
      this.i++;
      left = { kind: 'binary', op: 'or', left, right: this.and() };
    }
    return left;
  }
  private and(): Expr {
    let left = this.not();
    while (this.isWord('and')) {
      this.i++;
      left = { kind: 'binary', op: 'and', left, right: this.not() };
    }
    return left;
  }
  private not(): Expr {
    if (this.isWord('not')) {
      this.i++;
      return { kind: 'unary', op: 'not', arg: this.not() };
    }
    return this.compare();
  }
  private compare(): Expr {
    let left = this.additive();
    for (;;) {
      let op: string | undefined;
      if (this.peek.kind === 'op' && COMPARE.has(this.peek.value)) {
        op = this.peek.value;
        this.i++;
      } else if (this.isWord('in')) {
        op = 'in';
        this.i++;
      } else if (this.isWord('not') && this.toks[this.i + 1]?.value === 'in') {
        op = 'not in';
        this.i += 2;
      } else if (this.isWord('is')) {
        this.i++;
        op = 'is';
        if (this.isWord('not')) {
          this.i++;
          op = 'is not';
        }
      }
      if (!op) return left;
      left = { kind: 'binary', op, left, right: this.additive() };
    }
  }
  private additive(): Expr {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.peek.value;
      this.i++;
      left = { kind: 'binary', op, left, right: this.term() };
    }
    return left;
  }
  private term(): Expr {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.peek.value;
      this.i++;
      left = { kind: 'binary', op, left, right: this.unary() };
    }
    return left;
  }
  private unary(): Expr {
    if (this.isOp('-')) {
      this.i++;
      return { kind: 'unary', op: '-', arg: this.unary() };
    }
    return this.postfix();
  }
  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.isOp('(')) {
        if (e.kind !== 'name') this.fail('only named functions can be called');
        e = this.call(e.name);
      } else if (this.isOp('[')) {
        this.i++;
        const index = this.expr();
        this.expect(']');
        e = { kind: 'index', target: e, index };
      } else if (this.isOp('.')) {
        this.fail('attribute access is not supported');
      } else return e;
    }
  }
  private call(fn: string): Expr {
    this.expect('(');
    const args: Expr[] = [];
    const kwargs: Record<string, Expr> = {};
    while (!this.isOp(')')) {
      const t = this.peek;
      const next = this.toks[this.i + 1];
      if (t.kind === 'name' && next?.kind === 'op' && next.value === '=') {
        this.i += 2;
        if (t.value in kwargs) this.fail(`argument "${t.value}" given twice`);
        kwargs[t.value] = this.expr();
      } else {
        if (Object.keys(kwargs).length) this.fail('positional argument after a keyword argument');
        args.push(this.expr());
      }
      if (!this.isOp(',')) break;
      this.i++;
    }
    this.expect(')');
    return { kind: 'call', fn, args, kwargs, line: this.line };
  }
  private primary(): Expr {
    const t = this.peek;
    this.i++;
    if (t.kind === 'num') return { kind: 'lit', value: Number(t.value) };
    if (t.kind === 'str') return { kind: 'lit', value: t.value };
    if (t.kind === 'name') {
      if (t.value === 'True' || t.value === 'true') return { kind: 'lit', value: true };
      if (t.value === 'False' || t.value === 'false') return { kind: 'lit', value: false };
      if (t.value === 'None') return { kind: 'lit', value: null };
      if (['and', 'or', 'not', 'in', 'is', 'if', 'else'].includes(t.value))
        this.fail(`unexpected "${t.value}"`);
      return { kind: 'name', name: t.value };
    }
    if (t.kind === 'op' && t.value === '(') {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (t.kind === 'op' && (t.value === '[' || t.value === '(')) return this.list(']');
    if (t.kind === 'op' && t.value === '{') return this.dict();
    this.fail(t.kind === 'eof' ? 'unexpected end of expression' : `unexpected "${t.value}"`);
  }
  private list(close: string): Expr {
    const items: Expr[] = [];
    while (!this.isOp(close)) {
      items.push(this.expr());
      if (!this.isOp(',')) break;
      this.i++;
    }
    this.expect(close);
    return { kind: 'list', items };
  }
  private dict(): Expr {
    const entries: [Expr, Expr][] = [];
    while (!this.isOp('}')) {
      const k = this.expr();
      this.expect(':');
      entries.push([k, this.expr()]);
      if (!this.isOp(',')) break;
      this.i++;
    }
    this.expect('}');
    return { kind: 'dict', entries };
  }
}

export function parseExpression(src: string, line = 1): Expr {
  if (!src.trim()) throw new TemplateSyntaxError('empty expression', line);
  return new ExprParser(tokenize(src, line), src, line).parseAll();
}

type Frame =
  | { kind: 'root' }
  | { kind: 'if'; node: Extract<TemplateNode, { kind: 'if' }>; inElse: boolean }
  | { kind: 'for'; node: Extract<TemplateNode, { kind: 'for' }> };

/** Parses a whole template (the SQL after the `%` line) into a tree. */
export function parseTemplate(src: string, firstLine = 1): TemplateNode[] {
  const root: TemplateNode[] = [];
  const stack: { frame: Frame; body: TemplateNode[]; line: number }[] = [
    { frame: { kind: 'root' }, body: root, line: firstLine },
  ];
  const top = () => stack[stack.length - 1] as (typeof stack)[number];
  for (const seg of splitTemplate(src, firstLine)) {
    if (seg.kind === 'text') {
      top().body.push({ kind: 'text', text: seg.text });
      continue;
    }
    if (seg.kind === 'expr') {
      top().body.push({ kind: 'output', expr: parseExpression(seg.source, seg.line), line: seg.line });
      continue;
    }
    const m = seg.source.match(/^(\w+)\s*([\s\S]*)$/);
    const word = m?.[1] ?? '';
    const rest = (m?.[2] ?? '').trim();
    const frame = top().frame;
    switch (word) {
      case 'if': {
        const node: Extract<TemplateNode, { kind: 'if' }> = {
          kind: 'if',
          branches: [{ test: parseExpression(rest, seg.line), body: [] }],
          otherwise: [],
          line: seg.line,
        };
        top().body.push(node);
        stack.push({
          frame: { kind: 'if', node, inElse: false },
          body: (node.branches[0] as { body: TemplateNode[] }).body,
          line: seg.line,
        });
        break;
      }
      case 'elif':
      case 'else': {
        if (frame.kind !== 'if' || frame.inElse)
          throw new TemplateSyntaxError(`{% ${word} %} without a matching {% if %}`, seg.line);
        const entry = top();
        if (word === 'elif') {
          const branch = { test: parseExpression(rest, seg.line), body: [] as TemplateNode[] };
          frame.node.branches.push(branch);
          entry.body = branch.body;
        } else {
          if (rest) throw new TemplateSyntaxError('{% else %} takes no condition (use elif)', seg.line);
          frame.inElse = true;
          entry.body = frame.node.otherwise;
        }
        break;
      }
      case 'end':
        if (stack.length === 1)
          throw new TemplateSyntaxError('{% end %} without an open {% if %} or {% for %}', seg.line);
        stack.pop();
        break;
      case 'set': {
        const s = rest.match(/^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*([\s\S]+)$/);
        if (!s) throw new TemplateSyntaxError('expected {% set name = expression %}', seg.line);
        top().body.push({
          kind: 'set',
          name: s[1] as string,
          expr: parseExpression(s[2] as string, seg.line),
          line: seg.line,
        });
        break;
      }
      case 'for': {
        const f = rest.match(/^([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([\s\S]+)$/);
        if (!f) throw new TemplateSyntaxError('expected {% for name in expression %}', seg.line);
        const node: Extract<TemplateNode, { kind: 'for' }> = {
          kind: 'for',
          name: f[1] as string,
          iter: parseExpression(f[2] as string, seg.line),
          body: [],
          line: seg.line,
        };
        top().body.push(node);
        stack.push({ frame: { kind: 'for', node }, body: node.body, line: seg.line });
        break;
      }
      default:
        throw new TemplateSyntaxError(
          `unknown statement {% ${word} %}: expected if, elif, else, end, set or for`,
          seg.line,
        );
    }
  }
  if (stack.length > 1) {
    const open = top();
    throw new TemplateSyntaxError(
      `{% ${open.frame.kind} %} opened here is never closed with {% end %}`,
      open.line,
    );
  }
  return root;
}

/** Every expression in a template tree, nested calls included (for static checks). */
export function* walkExprs(nodes: TemplateNode[]): Generator<Expr> {
  const visit = function* (e: Expr): Generator<Expr> {
    yield e;
    switch (e.kind) {
      case 'list':
        for (const x of e.items) yield* visit(x);
        break;
      case 'dict':
        for (const [k, v] of e.entries) {
          yield* visit(k);
          yield* visit(v);
        }
        break;
      case 'call':
        for (const x of e.args) yield* visit(x);
        for (const x of Object.values(e.kwargs)) yield* visit(x);
        break;
      case 'index':
        yield* visit(e.target);
        yield* visit(e.index);
        break;
      case 'unary':
        yield* visit(e.arg);
        break;
      case 'binary':
        yield* visit(e.left);
        yield* visit(e.right);
        break;
      case 'cond':
        yield* visit(e.test);
        yield* visit(e.ifTrue);
        yield* visit(e.ifFalse);
        break;
    }
  };
  for (const n of nodes) {
    if (n.kind === 'output' || n.kind === 'set') yield* visit(n.expr);
    else if (n.kind === 'if') {
      for (const b of n.branches) {
        yield* visit(b.test);
        yield* walkExprs(b.body);
      }
      yield* walkExprs(n.otherwise);
    } else if (n.kind === 'for') {
      yield* visit(n.iter);
      yield* walkExprs(n.body);
    }
  }
}
