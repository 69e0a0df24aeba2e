import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The dashboard in a real headless Chromium (Debian's, installed by scripts/test-setup.sh),
// against a real service with known events: what the page shows must be what the pipes answer.

const CHROMIUM = '/usr/bin/chromium';
const DOCS = fileURLToPath(new URL('../docs', import.meta.url));
const DAY = 86_400_000;
const FEATURES = ['feature_search', 'feature_export', 'feature_share', 'feature_alerts'];

const chTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** Events over the last 40 days: busy and quiet features, 30 users in 5 accounts, 2 versions. */
function knownEvents(now: number): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  let n = 0;
  for (let day = 0; day < 40; day++) {
    FEATURES.forEach((feature, fi) => {
      const perDay = (fi + 1) * ((day % 3) + 1);
      for (let k = 0; k < perDay; k++) {
        const user = (day * 7 + k * 3 + fi) % 30;
        // today's events sit in the minutes before now, the others anywhere in their day
        const ts = day === 0 ? now - (k + 1) * 20_000 : now - day * DAY - ((k * 3_571_000) % DAY);
        rows.push(
          event({
            event_id: `dash_${n++}`,
            user_id: `user_${user}`,
            account_id: `acct_${user % 5}`,
            feature_id: feature,
            product_version: user % 2 ? '2.0.0' : '1.9.0',
            event_type: k % 2 ? 'feature_viewed' : 'feature_used',
            timestamp: chTime(ts),
            session_id: `s_${user}_${day}`,
          }),
        );
      }
    });
  }
  return rows;
}

let svc: ServiceProcess;
let browser: Browser;
let posted: Record<string, unknown>[];
const consoleErrors: string[] = [];

async function pipe<T = Record<string, unknown>>(name: string, params: Record<string, string>): Promise<T[]> {
  const res = await fetch(`${svc.baseUrl}/v0/pipes/${name}.json?${new URLSearchParams(params)}`, {
    headers: { Authorization: `Bearer ${svc.token}` },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { data: T[] }).data;
}

/** Opens a page in a new browser context, signed in with `token` through #token= (null: none). */
async function openDashboard(
  path: string,
  { token = svc.token as string | null, width = 1280, height = 900 } = {},
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height }, acceptDownloads: true });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(`${svc.baseUrl}${path}${token ? `#token=${token}` : ''}`);
  return page;
}

/** Waits until every panel has finished loading (ready, empty or error). */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const panels = [...document.querySelectorAll('main section[data-state]')];
    return (
      panels.length >= 6 &&
      !document.querySelector('[aria-busy]') &&
      panels.every((p) => (p as HTMLElement).dataset.state !== 'loading')
    );
  });
}

const cardValue = async (page: Page, id: string) =>
  Number(await page.locator(`[data-kpi="${id}"] .value`).getAttribute('data-value'));

const eventIds = (page: Page) => page.locator('#events-table tbody tr td:last-child').allTextContents();

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/test-setup.sh (apt-get install chromium)`);
  svc = await startServiceProcess();
  posted = knownEvents(Date.now());
  const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events&wait=true`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${svc.token}` },
    body: ndjson(posted),
  });
  expect(res.status).toBe(200);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

describe('dashboard', () => {
  it('shows KPI cards equal to the pipe answers', async () => {
    const page = await openDashboard('/dashboard');
    await settled(page);
    expect(page.url()).not.toContain('token='); // taken into the session, out of the address bar
    const kpis = await pipe<Record<string, number>>('kpis', {});
    const sum = (k: string) => kpis.reduce((s, r) => s + Number(r[k]), 0);
    expect(await cardValue(page, 'events_today')).toBe(sum('events_today'));
    expect(await cardValue(page, 'events_7d')).toBe(sum('events_week'));
    expect(await cardValue(page, 'events_30d')).toBe(sum('events_month'));
    const today = Math.floor(Date.now() / DAY) * DAY;
    const [week] = await pipe<{ active_users: number }>('feature_adoption', {
      start_date: chTime(today - 6 * DAY),
      end_date: chTime(Date.now()),
      limit: '1',
    });
    expect(await cardValue(page, 'users_7d')).toBe(Number(week?.active_users));
    // and the events card agrees with the events we posted
    const weekEvents = posted.filter(
      (e) => Date.parse(`${String(e.timestamp).replace(' ', 'T')}Z`) >= today - 6 * DAY,
    );
    expect(await cardValue(page, 'events_7d')).toBe(weekEvents.length);
    await page.close();
  });

  it('applies the date and feature filters to the charts, the tables and the URL', async () => {
    const page = await openDashboard('/dashboard');
    await settled(page);
    const timeline = page.locator('#timeline-chart');
    expect(await timeline.getAttribute('data-points')).toBe('30');
    const adoptionBefore = await page.locator('#adoption-table').textContent();

    await page.selectOption('select[name="range"]', '7d');
    await page.waitForURL(/range=7d/);
    await settled(page);
    await expect.poll(() => timeline.getAttribute('data-points')).toBe('7');
    expect(await page.locator('#adoption-table').textContent()).not.toBe(adoptionBefore);

    await page.selectOption('select[name="feature"]', 'feature_export');
    await page.waitForURL(/feature=feature_export/);
    await settled(page);
    await expect.poll(() => timeline.getAttribute('data-series')).toBe('feature_export');
    const adoptionRows = await page.locator('#adoption-table tbody tr td:first-child').allTextContents();
    expect(adoptionRows).toEqual(['feature_export']);
    const features = await page.locator('#events-table tbody tr td:nth-child(2)').allTextContents();
    expect(features.length).toBeGreaterThan(0);
    expect(new Set(features)).toEqual(new Set(['feature_export']));

    // a shared URL opens the same view
    const shared = await openDashboard(`/dashboard${new URL(page.url()).search}`);
    await settled(shared);
    expect(await shared.locator('select[name="range"]').inputValue()).toBe('7d');
    expect(await shared.locator('select[name="feature"]').inputValue()).toBe('feature_export');
    await shared.close();
    await page.close();
  });

  it('pages the events table with the keyset of the last row', async () => {
    const page = await openDashboard('/dashboard?range=90d');
    await settled(page);
    const first = await eventIds(page);
    expect(first).toHaveLength(25);
    await page.click('#events-next');
    await expect.poll(async () => (await eventIds(page))[0]).not.toBe(first[0]);
    const second = await eventIds(page);
    const newestFirst = [...posted].sort(
      (a, b) =>
        String(b.timestamp).localeCompare(String(a.timestamp)) ||
        String(b.event_id).localeCompare(String(a.event_id)),
    );
    expect(first).toEqual(newestFirst.slice(0, 25).map((e) => e.event_id));
    expect(second).toEqual(newestFirst.slice(25, 50).map((e) => e.event_id));
    await page.click('#events-newest');
    await expect.poll(async () => (await eventIds(page))[0]).toBe(first[0]);
    await page.close();
  });

  it('downloads the CSV export of the filtered events', async () => {
    const page = await openDashboard('/dashboard?range=7d&feature=feature_share');
    await settled(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#events-export')]);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    const lines = csv.trim().split('\n');
    const today = Math.floor(Date.now() / DAY) * DAY;
    const expected = posted.filter(
      (e) =>
        e.feature_id === 'feature_share' &&
        Date.parse(`${String(e.timestamp).replace(' ', 'T')}Z`) >= today - 6 * DAY,
    );
    const ids = lines.filter((l) => l.includes('dash_')).map((l) => /dash_\d+/.exec(l)?.[0]);
    expect(new Set(ids)).toEqual(new Set(expected.map((e) => e.event_id)));
    await expect.poll(() => page.locator('#export-status').textContent()).toMatch(/Downloaded/);
    await page.close();
  });

  it('says so when the token is wrong, and asks for one when there is none', async () => {
    const wrong = await openDashboard('/dashboard', { token: 'not-a-real-token' });
    await expect.poll(() => wrong.locator('#signin-error').textContent()).toMatch(/refused/i);
    expect(await wrong.locator('#signin').isVisible()).toBe(true);
    await wrong.close();
    const none = await openDashboard('/', { token: null });
    await expect.poll(() => none.locator('#signin').isVisible()).toBe(true);
    expect(await none.locator('#signin').textContent()).toMatch(/token/i);
    await none.close();
  });

  it('writes desktop and phone screenshots, and logs no console errors', async () => {
    mkdirSync(DOCS, { recursive: true });
    for (const [name, width, height] of [
      ['desktop', 1280, 900],
      ['phone', 390, 844],
    ] as const) {
      const page = await openDashboard('/dashboard', { width, height });
      await settled(page);
      await page.screenshot({ path: `${DOCS}/dashboard-${name}.png`, fullPage: true });
      // nothing sticks out sideways on a phone
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, name).toBeLessThanOrEqual(1);
      await page.close();
    }
    // the one expected error: the wrong token's 403 answer, logged by the browser itself
    expect(consoleErrors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  });
});
