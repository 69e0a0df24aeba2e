import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export interface DashboardRun {
  /** From navigation start until the usage-over-time chart has drawn its points. */
  first_chart_ms: number;
  /** Until every panel has its answer. */
  all_panels_ms: number;
  /** The page's own files over the wire (gzip), headers included: HTML, JS, CSS. */
  page_bytes: number;
  /** Pipe answers fetched for one full load. */
  pipe_requests: number;
}

/** Opens the dashboard in Debian's Chromium, as a first-time visitor, and times it. */
export async function measureDashboard(
  baseUrl: string,
  token: string,
): Promise<DashboardRun | { skipped: string }> {
  if (!existsSync(CHROMIUM)) return { skipped: `${CHROMIUM} missing (scripts/test-setup.sh installs it)` };
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${baseUrl}/dashboard#token=${token}`);
    await page.waitForFunction(
      () => Number(document.getElementById('timeline-chart')?.dataset.points ?? 0) > 0,
      null,
      {
        timeout: 120_000,
      },
    );
    const firstChart = await page.evaluate(() => performance.now());
    await page.waitForFunction(
      () => {
        const panels = [...document.querySelectorAll('main section[data-state]')];
        return panels.length >= 6 && !document.querySelector('[aria-busy]');
      },
      null,
      { timeout: 120_000 },
    );
    const allPanels = await page.evaluate(() => performance.now());
    const resources = await page.evaluate(() =>
      [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map(
        (e) => ({ name: e.name, bytes: (e as PerformanceResourceTiming).transferSize }),
      ),
    );
    const own = resources.filter((r) => !r.name.includes('/v0/'));
    return {
      first_chart_ms: Math.round(firstChart),
      all_panels_ms: Math.round(allPanels),
      page_bytes: own.reduce((s, r) => s + r.bytes, 0),
      pipe_requests: resources.length - own.length,
    };
  } finally {
    await browser.close();
  }
}
