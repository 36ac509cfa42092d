// Uses Portcullis's /docs (Swagger UI) the way a person would, in headless Chromium driven by playwright-core:
// Authorize with the OAuth2 password flow, then "Try it out" on GET /auth/v1/user and read the response shown.
// Usage: PORTCULLIS_URL=http://127.0.0.1:9999 E2E_EMAIL=... E2E_PASSWORD=... node e2e.mjs
// Optional: CHROMIUM (default /usr/bin/chromium), E2E_SCREENSHOT (PNG written on failure), E2E_TIMEOUT_MS.
// Exits 0 and prints a JSON summary when every step holds; exits 1 with the failing step, the browser's console
// and the HTTP exchanges the page made otherwise. Run by SwaggerUiBrowserTest; package.json pins playwright-core.

import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.PORTCULLIS_URL;
const email = process.env.E2E_EMAIL;
const password = process.env.E2E_PASSWORD;
if (!url || !email || !password) {
  console.error('FAIL: set PORTCULLIS_URL, E2E_EMAIL and E2E_PASSWORD');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshot = process.env.E2E_SCREENSHOT;
const timeout = Number(process.env.E2E_TIMEOUT_MS || 90000);
const stepTimeout = Math.min(30000, timeout);
const version = JSON.parse(readFileSync(
  new URL('./node_modules/playwright-core/package.json', import.meta.url), 'utf8')).version;

// Without the background-networking flags Chromium opens connections of its own (updates, sync, QUIC probes),
// which a closed network refuses; nothing here needs anything but the server under test.
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

const exchanges = [];
const consoleLines = [];
let step = 'launch';
const userDataDir = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
let context;
const killer = setTimeout(() => {
  console.error(`FAIL: no result within ${timeout} ms (step: ${step})`);
  process.exit(1);
}, timeout + 15000);

try {
  // A persistent context on a fresh directory: Chromium's --user-data-dir, owned by this run.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath, headless: true, args, timeout: stepTimeout, viewport: { width: 1280, height: 1600 },
  });
  const browserVersion = context.browser() ? context.browser().version() : 'unknown';
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(stepTimeout);
  page.on('console', message => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', error => consoleLines.push(`pageerror: ${error.message}`));
  page.on('requestfailed', request => exchanges.push(`${request.method()} ${request.url()} failed: ${request.failure()?.errorText}`));
  page.on('response', response => exchanges.push(`${response.request().method()} ${response.url()} ${response.status()}`));

  step = 'open /docs';
  await page.goto(`${url}/docs`, { waitUntil: 'load' });
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'Portcullis' }).waitFor();
  const foreign = exchanges.filter(e => !e.split(' ')[1].startsWith(url) && !e.split(' ')[1].startsWith('data:'));
  if (foreign.length > 0) {
    throw new Error(`the page loaded something from elsewhere: ${JSON.stringify(foreign)}`);
  }

  step = 'open the Authorize dialog';
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();

  step = 'sign in with the OAuth2 password flow';
  const oauth = dialog.locator('.auth-container').filter({ hasText: 'OAuth2, password' });
  await oauth.locator('#oauth_username').fill(email);
  await oauth.locator('#oauth_password').fill(password);
  const tokenResponse = page.waitForResponse(r => r.url().startsWith(`${url}/auth/v1/token`));
  await oauth.locator('button.authorize').click();
  const token = await tokenResponse;
  if (token.status() !== 200) {
    throw new Error(`POST /auth/v1/token answered ${token.status()}: ${await token.text()}`);
  }
  // Swagger UI shows Logout ("Remove authorization") in place of Authorize once the scheme holds a token.
  await oauth.getByRole('button', { name: 'Remove authorization' }).waitFor();

  step = 'close the dialog';
  await oauth.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'detached' });

  step = 'expand GET /auth/v1/user';
  const operation = page.locator('#operations-User-getUser');
  await operation.locator('.opblock-summary-control').click();
  await operation.locator('button.try-out__btn').click();

  step = 'execute GET /auth/v1/user';
  const userResponse = page.waitForResponse(r => r.url() === `${url}/auth/v1/user`);
  await operation.locator('button.execute').click();
  const user = await userResponse;
  const authorization = await user.request().headerValue('authorization');
  if (!authorization || !authorization.startsWith('Bearer ')) {
    throw new Error(`GET /auth/v1/user was sent without a Bearer token: ${authorization}`);
  }

  step = 'read the response shown';
  const shown = operation.locator('.live-responses-table .response');
  await shown.locator('.response-col_status').waitFor();
  const status = (await shown.locator('.response-col_status').innerText()).trim();
  const body = await shown.locator('.response-col_description pre').first().innerText();
  if (status !== '200') {
    throw new Error(`the page shows status ${status}: ${body}`);
  }
  if (!body.includes(email)) {
    throw new Error(`the response shown does not contain ${email}: ${body}`);
  }

  console.log(JSON.stringify({
    ok: true, status: Number(status), email, tokenRequestStatus: token.status(),
    client: `playwright-core@${version}`, browser: browserVersion,
  }, null, 2));
  await context.close();
  clearTimeout(killer);
  rmSync(userDataDir, { recursive: true, force: true });
  process.exit(0);
} catch (error) {
  console.error(`FAIL at step "${step}": ${error && error.stack ? error.stack : error}`);
  if (context && screenshot) {
    try {
      const page = context.pages()[0];
      if (page) {
        await page.screenshot({ path: screenshot, fullPage: true });
        console.error(`screenshot: ${screenshot}`);
      }
    } catch (e) {
      console.error(`no screenshot: ${e}`);
    }
  }
  console.error(`browser console:\n  ${consoleLines.join('\n  ')}`);
  console.error(`exchanges:\n  ${exchanges.join('\n  ')}`);
  try {
    if (context) {
      await context.close();
    }
  } catch {
    // the run fails anyway
  }
  rmSync(userDataDir, { recursive: true, force: true });
  process.exit(1);
}
