import { describe, expect, it } from 'vitest';
import { compilePipe } from './compile.js';
import { parseDatafile } from './datafile.js';
import { renderMemo } from './render-memo.js';

const pipe = compilePipe(
  'p',
  'p.pipe',
  parseDatafile(
    'NODE n\nSQL >\n    %\n    SELECT {{ UInt32(n, 1) }} AS n, {{ String(s, required=True) }} AS s\nTYPE endpoint\n',
  ),
);
const req = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k, [v]]));

describe('renderMemo', () => {
  it('renders an equal request once and a different one anew', () => {
    const render = renderMemo();
    const a = render(pipe, req({ s: 'x', n: '2' }));
    expect(render(pipe, req({ s: 'x', n: '2' }))).toBe(a);
    const b = render(pipe, req({ s: 'y', n: '2' }));
    expect(b).not.toBe(a);
    expect(Object.values(b.params)).toContain('y');
    expect(render(pipe, req({ s: 'x', n: '2' }), { exporting: true })).not.toBe(a);
  });

  it('keeps no failed render: a bad request fails every time', () => {
    const render = renderMemo();
    expect(() => render(pipe, req({ n: '2' }))).toThrow(/s/);
    expect(() => render(pipe, req({ n: '2' }))).toThrow(/s/);
  });

  it('forgets the least recently used past its size', () => {
    const render = renderMemo(undefined, 2);
    const first = render(pipe, req({ s: '1' }));
    const second = render(pipe, req({ s: '2' }));
    render(pipe, req({ s: '1' })); // used again: now the newest
    render(pipe, req({ s: '3' })); // evicts s=2
    expect(render(pipe, req({ s: '1' }))).toBe(first);
    expect(render(pipe, req({ s: '2' }))).not.toBe(second);
  });
});
