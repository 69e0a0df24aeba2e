// Charts on uPlot (about 20 KB gzipped, canvas, fast with thousands of points), loaded by
// index.html from its minified build, which sets window.uPlot.
const { uPlot } = window;

const PALETTE = ['#2563eb', '#dc6803', '#067647', '#9e77ed', '#e31b54', '#0e9384', '#667085', '#ca8504'];
const charts = new WeakMap();

function mount(el, opts, data) {
  charts.get(el)?.destroy();
  const width = Math.max(280, el.clientWidth);
  const chart = new uPlot({ ...opts, width, height: opts.height ?? 260 }, data, el);
  charts.set(el, chart);
  if (!el.dataset.observed) {
    el.dataset.observed = '1';
    new ResizeObserver(() => {
      const c = charts.get(el);
      if (c && Math.abs(c.width - el.clientWidth) > 4)
        c.setSize({ width: Math.max(280, el.clientWidth), height: c.height });
    }).observe(el);
  }
  el.dataset.points = String(data[0].length);
  el.dataset.series = opts.series
    .slice(1)
    .map((s) => s.label)
    .join('|');
}

/** uPlot series options for named lines, coloured in order. */
const lines = (series) =>
  series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2 }));

/** Lines over time: x in epoch seconds, one series per name. */
export function timeChart(el, x, series) {
  mount(
    el,
    {
      series: [{}, ...lines(series)],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true } },
    },
    [x, ...series.map((s) => s.values)],
  );
}

/** Bars over named categories. */
export function barChart(el, labels, values, label) {
  const ticks = labels.map((_, i) => i);
  mount(
    el,
    {
      series: [
        {},
        {
          label,
          stroke: PALETTE[0],
          fill: `${PALETTE[0]}99`,
          paths: uPlot.paths.bars({ size: [0.6, 64] }),
          points: { show: false },
        },
      ],
      legend: { show: false },
      // Categories sit at 0..n-1; half a step of margin keeps the outer bars whole.
      scales: {
        x: { time: false, range: () => [-0.5, labels.length - 0.5] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [
        {
          splits: () => ticks,
          values: (_u, splits) => splits.map((i) => labels[i] ?? ''),
          rotate: -40,
          size: 100,
        },
        { size: 50 },
      ],
    },
    [ticks, values],
  );
}

/** Lines over plain numbers (weeks), one series per name. */
export function lineChart(el, x, series) {
  mount(
    el,
    {
      series: [{ label: 'week' }, ...lines(series)],
      scales: { x: { time: false } },
      axes: [
        { values: (_u, splits) => splits.map((w) => (Number.isInteger(w) ? `week ${w}` : '')) },
        { size: 50 },
      ],
    },
    [x, ...series.map((s) => s.values)],
  );
}
