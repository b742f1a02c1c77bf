// The status page in a real browser (Debian's chromium, driven by puppeteer-core): what a person
// sees. A screenshot is left at $LVSD_STATUS_SCREENSHOT (default /tmp/lvsd-status-page.png) to
// look at by eye; it is not part of the repository.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Browser, Page } from 'puppeteer-core';
import { startStatusServer, type StatusServer } from '../../../src/director/status-http';
import { STATE_COLOURS } from '../../../src/director/page/html';
import { PlainDirector, sampleStatus } from '../../support/director-fixture';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env.LVSD_STATUS_SCREENSHOT ?? '/tmp/lvsd-status-page.png';

/** "#ff9a9a" -> "rgb(255, 154, 154)", as getComputedStyle reports colours. */
function rgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${n >> 16}, ${(n >> 8) & 255}, ${n & 255})`;
}

// what the page functions use of the browser's DOM (this project compiles without the DOM library)
interface El {
  innerText: string;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  getAttribute(name: string): string | null;
}
declare function getComputedStyle(element: El): { backgroundColor: string };

interface RowSeen {
  state: string;
  weight: string;
  active: string;
  inactive: string;
  reason: string;
  latency: string;
  since: string;
  background: string;
}

describe('status page in headless chromium', { timeout: 120_000 }, () => {
  let director: PlainDirector;
  let server: StatusServer;
  let browser: Browser;
  let page: Page;
  let profile: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium)`);
    director = new PlainDirector();
    server = await startStatusServer(director, { listen: '127.0.0.1:0', log: pino({ level: 'silent' }) });
    profile = mkdtempSync(join(tmpdir(), 'lvsd-chromium-'));
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      pipe: true, // DevTools over a pipe: no debugging port opened
      userDataDir: profile,
      timeout: 30_000,
      protocolTimeout: 30_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--window-size=1400,900',
      ],
    });
    page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await page.setViewport({ width: 1400, height: 900 });
    // times relative to now (the director started an hour ago), so "since" reads as a person expects
    director.data = sampleStatus(Date.now() - 3600_000);
    const res = await page.goto(`http://${server.address}/`, { waitUntil: 'load', timeout: 15_000 });
    assert.equal(res?.status(), 200);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const row = (service: string, name: string): Promise<RowSeen> =>
    page.$eval(`table[data-service="${service}"] tr[data-server="${name}"]`, (element) => {
      const tr = element as unknown as El;
      const text = (sel: string) => (tr.querySelector(sel) as El).innerText.trim();
      return {
        state: text('td.state'),
        weight: text('td.weight'),
        active: text('td.active'),
        inactive: text('td.inactive'),
        reason: text('td.reason'),
        latency: text('td.latency'),
        since: text('td.since'),
        background: getComputedStyle(tr).backgroundColor,
      };
    });

  it('shows the page title and each service with its address and scheduler', async () => {
    assert.equal(await page.title(), 'lvsd director status');
    const captions = await page.$$eval('table.svc caption', (cs) => cs.map((c) => (c as unknown as El).innerText.replace(/\s+/g, ' ').trim()));
    assert.equal(captions.length, 2);
    assert.match(captions[0], /^mysql-read TCP 198\.18\.0\.10:3306 wlc, persistent 300 s, up weight 5, quorum 2 ± 1 met/);
    assert.match(captions[1], /^web TCP \[2001:db8::10\]:80 rr, up weight 1$/);
  });

  it('shows a down server as DOWN in red, with weight 0 of 2 and the failing check reason as text', async () => {
    const down = await row('mysql-read', '198.18.0.23:3306');
    assert.equal(down.state, 'DOWN');
    assert.equal(down.weight, '0 (cfg 2)');
    assert.equal(down.reason, 'mysql: replica lag 412 s > 60 s <script>window.__xss=1</script>');
    assert.equal(down.latency, '2.5 ms');
    assert.match(down.since, /^1m0[01]s$/);
    assert.equal(down.background, rgb(STATE_COLOURS.down));
    // the reason was shown as text, never run
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
  });

  it('shows up servers in green with their weights and connection counts', async () => {
    const up = await row('mysql-read', '198.18.0.21:3306');
    assert.deepEqual(
      { state: up.state, weight: up.weight, active: up.active, inactive: up.inactive, reason: up.reason, latency: up.latency, background: up.background },
      { state: 'up', weight: '3', active: '17', inactive: '42', reason: 'mysql: replica lag 0 s', latency: '1.8 ms', background: rgb(STATE_COLOURS.up) },
    );
    assert.equal(up.since, '1h00m');
    const second = await row('mysql-read', '198.18.0.22:3306');
    assert.deepEqual([second.weight, second.active, second.inactive], ['2', '9', '31']);
  });

  it('shows an operator drain as drained, in blue, saying who drained it', async () => {
    const drained = await row('web', '[2001:db8::32]:80');
    assert.equal(drained.state, 'drained\ndrained by operator');
    assert.equal(drained.weight, '0 (cfg 1)');
    assert.equal(drained.background, rgb(STATE_COLOURS.drained));
  });

  it('shows service totals and the director header', async () => {
    const total = await page.$eval('table[data-service="mysql-read"] tr.total', (tr) => Array.from((tr as unknown as El).querySelectorAll('td')).map((td) => td.innerText.trim()));
    // weight, active, inactive, total connections, conn/s, in B/s, out B/s
    assert.deepEqual(total.slice(4, 11), ['5', '26', '73', '123K', '12', '2.0K', '41K']);
    const info = await page.$eval('table.info', (t) => (t as unknown as El).innerText);
    assert.match(info, /lvsd 0\.1\.0, pid 4242, up 1h00m/);
    assert.match(info, /\/etc\/lvsd\/director\.yaml, loaded 30m0[01]s ago/);
    assert.match(info, /321 since start\), 2 failures/);
  });

  it('refreshes itself, and a drain shows after the refresh', async () => {
    const refresh = await page.$eval('meta[http-equiv="refresh"]', (m) => m.getAttribute('content'));
    assert.equal(refresh, '5');
    await director.drain({ server: '198.18.0.22:3306' });
    await page.reload({ waitUntil: 'load', timeout: 15_000 });
    const drained = await row('mysql-read', '198.18.0.22:3306');
    assert.equal(drained.state, 'drained\ndrained by operator');
    assert.equal(drained.background, rgb(STATE_COLOURS.drained));
    await director.enable({ server: '198.18.0.22:3306' });
    await page.reload({ waitUntil: 'load', timeout: 15_000 });
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
  });
});
