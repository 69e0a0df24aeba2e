// The dashboard: reads the filters from the URL and the token from the session, loads every
// widget from the public pipe endpoints, and refreshes every 30 s unless turned off.
import { createApi, PipeError } from './api.js';
import { filtersToSearch, readFilters, windowOf, windowParams } from './filters.js';
import { setState } from './render.js';
import { loadAdoption } from './widgets/adoption.js';
import { loadChurn } from './widgets/churn.js';
import { exportEvents, loadEvents } from './widgets/events.js';
import { loadKpis } from './widgets/kpis.js';
import { loadRetention } from './widgets/retention.js';
import { loadTimeline } from './widgets/timeline.js';

const TOKEN_KEY = 'feature-events-token';
const REFRESH_KEY = 'feature-events-autorefresh';
const REFRESH_MS = 30_000;
const $ = (id) => document.getElementById(id);

/** A #token= in the URL is taken into the session and removed from the address bar. */
function takeToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('token')) {
    sessionStorage.setItem(TOKEN_KEY, hash.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function showSignIn(message) {
  $('dashboard').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  $('signin-error').hidden = !message;
  $('signin-error').textContent = message ?? '';
  $('token-input').focus();
}

let ctx;
let eventsCursor = null;
let eventsPages = [];
let timer;

function banner(text) {
  $('banner').hidden = !text;
  $('banner').textContent = text ?? '';
}

/** Runs one widget; its error shows in its own panel (and a refused token in the banner). */
async function run(panel, load) {
  // Data already shown stays until the new answer replaces it; aria-busy marks the wait.
  if (panel.dataset.state !== 'ready') setState(panel, 'loading', 'Loading…');
  panel.setAttribute('aria-busy', 'true');
  try {
    await load();
    if (panel.dataset.state === 'loading') setState(panel, null);
  } catch (err) {
    const message = err instanceof PipeError ? `${err.pipe}: ${err.message}` : String(err.message ?? err);
    setState(panel, 'error', message);
    if (err instanceof PipeError && err.refused)
      banner(`This token may not read ${err.pipe}: ${err.message}`);
    else console.warn(message);
  } finally {
    panel.removeAttribute('aria-busy');
  }
}

async function refresh() {
  document.body.setAttribute('aria-busy', 'true');
  try {
    await refreshWidgets();
  } finally {
    document.body.removeAttribute('aria-busy');
  }
}

async function refreshWidgets() {
  const f = readFilters(location.search);
  const w = windowOf(f);
  const base = { api: ctx.api, f, w, now: Date.now() };
  banner(null);
  let top = [];
  try {
    top = await ctx.api.rows('top_features', {
      ...windowParams(w),
      product_version: f.version,
      limit: 10000,
    });
  } catch (err) {
    if (err instanceof PipeError && err.refused) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(`The token was refused: ${err.message}`);
      return;
    }
    banner(err.message);
  }
  fillFeatureOptions(top, f.feature);
  const c = { ...base, top };
  ctx.last = c;
  await Promise.all([
    run($('kpis-panel'), () => loadKpis($('kpis'), c)),
    run($('timeline-panel'), () => loadTimeline($('timeline-panel'), c)),
    run($('adoption-panel'), () => loadAdoption($('adoption-panel'), c)),
    run($('retention-panel'), () => loadRetention($('retention-panel'), c)),
    run($('churn-panel'), () => loadChurn($('churn-panel'), c)),
    run($('events-panel'), async () => {
      eventsCursor = await loadEvents($('events-panel'), c, eventsPages.at(-1) ?? null);
    }),
  ]);
  $('updated').textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
}

function fillFeatureOptions(top, selected) {
  const select = $('filters').elements.feature;
  const names = top.map((r) => r.feature_id);
  if (selected && !names.includes(selected)) names.unshift(selected);
  select.replaceChildren(new Option('All features', ''), ...names.map((n) => new Option(n, n)));
  select.value = selected;
}

function formToUrl() {
  const form = $('filters');
  const f = Object.fromEntries(new FormData(form).entries());
  history.pushState(null, '', location.pathname + filtersToSearch(f) + location.hash);
  eventsPages = [];
}

function urlToForm() {
  const f = readFilters(location.search);
  const form = $('filters');
  for (const [k, v] of Object.entries(f)) if (form.elements[k]) form.elements[k].value = v;
  form.classList.toggle('custom-range', f.range === 'custom');
  if (f.range === 'custom') return;
  const w = windowOf(f);
  form.elements.from.value = windowParams(w).start_date.slice(0, 10);
  form.elements.to.value = windowParams(w).end_date.slice(0, 10);
}

function schedule() {
  clearInterval(timer);
  if ($('autorefresh').checked) timer = setInterval(refresh, REFRESH_MS);
}

function wire() {
  const form = $('filters');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    formToUrl();
    urlToForm();
    refresh();
  });
  // Selects apply at once; text fields on Enter or Apply.
  for (const name of ['range', 'feature']) {
    form.elements[name].addEventListener('change', () => {
      if (name === 'range' && form.elements.range.value === 'custom') {
        form.classList.add('custom-range');
        return;
      }
      form.requestSubmit();
    });
  }
  for (const name of ['from', 'to'])
    form.elements[name].addEventListener('change', () => form.requestSubmit());
  window.addEventListener('popstate', () => {
    eventsPages = [];
    urlToForm();
    refresh();
  });
  $('churn-by').addEventListener('change', () =>
    run($('churn-panel'), () => loadChurn($('churn-panel'), ctx.last)),
  );
  $('events-next').addEventListener('click', () => {
    if (!eventsCursor) return;
    eventsPages.push(eventsCursor);
    run($('events-panel'), async () => {
      eventsCursor = await loadEvents($('events-panel'), ctx.last, eventsCursor);
    });
  });
  $('events-newest').addEventListener('click', () => {
    eventsPages = [];
    run($('events-panel'), async () => {
      eventsCursor = await loadEvents($('events-panel'), ctx.last, null);
    });
  });
  $('events-export').addEventListener('click', async () => {
    $('export-status').textContent = 'Exporting…';
    try {
      const note = await exportEvents(ctx.last);
      $('export-status').textContent = `Downloaded${note ? ` (${note})` : ''}`;
    } catch (err) {
      $('export-status').textContent = `Export failed: ${err.message}`;
    }
  });
  $('autorefresh').checked = sessionStorage.getItem(REFRESH_KEY) !== 'off';
  $('autorefresh').addEventListener('change', () => {
    sessionStorage.setItem(REFRESH_KEY, $('autorefresh').checked ? 'on' : 'off');
    schedule();
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    clearInterval(timer);
    showSignIn();
  });
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token-input').value.trim());
    $('token-input').value = '';
    start();
  });
}

function start() {
  const token = takeToken();
  if (!token) {
    showSignIn();
    return;
  }
  ctx = { api: createApi(token) };
  $('signin').hidden = true;
  $('dashboard').hidden = false;
  $('signout').hidden = false;
  urlToForm();
  refresh();
  schedule();
}

wire();
start();
