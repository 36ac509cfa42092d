// A browser app in cookie mode, in headless Chromium driven by playwright-core: the page (served from the site
// origin) starts a PKCE sign-in through the provider, the real redirects bring it back with a code, it exchanges
// the code (cookies set), calls /user with cookies only, is refused a state change without the CSRF header and
// accepted with it, and signs out (cookies cleared). Prints the page's findings as JSON. Run by CookieBrowserTest.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const start = process.env.E2E_START;
const timeout = Number(process.env.E2E_TIMEOUT_MS || 90000);
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];
const exchanges = [];
const consoleLines = [];
setTimeout(() => {
  console.error(`FAIL: no result within ${timeout} ms\n${exchanges.join('\n')}\n${consoleLines.join('\n')}`);
  process.exit(1);
}, timeout + 15000).unref();

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'portcullis-cookies-')), {
  executablePath: process.env.CHROMIUM, headless: true, args, timeout });
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('response', (r) => exchanges.push(`${r.request().method()} ${r.url()} ${r.status()}`));
  await page.goto(start, { waitUntil: 'load' });
  await page.waitForFunction(() => window.result !== undefined, null, { timeout });
  const result = await page.evaluate(() => window.result);
  const cookies = await context.cookies();
  console.log(JSON.stringify({ ...result, cookiesLeft: cookies.map((c) => c.name), exchanges }, null, 2));
  await context.close();
  process.exit(result.ok ? 0 : 1);
} catch (e) {
  console.error(`FAIL: ${e && e.stack}\n${exchanges.join('\n')}\n${consoleLines.join('\n')}`);
  await context.close();
  process.exit(1);
}
