// Shared by the browser scripts here: launches headless Chromium through playwright-core on a fresh profile,
// records the page's console and HTTP exchanges, and runs the script's steps. On success it prints a JSON summary
// (with "ok": true and the driver's version) and exits 0; on failure it prints the failing step, the console and
// the exchanges, leaves a screenshot (E2E_SCREENSHOT) and exits 1.
// Environment: CHROMIUM (default /usr/bin/chromium), E2E_SCREENSHOT, E2E_TIMEOUT_MS (default 90000).

import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshot = process.env.E2E_SCREENSHOT;
const timeout = Number(process.env.E2E_TIMEOUT_MS || 90000);
const version = JSON.parse(readFileSync(
  new URL('./node_modules/playwright-core/package.json', import.meta.url), 'utf8')).version;

// Without the background-networking flags Chromium opens connections of its own (updates, sync, QUIC probes),
// which a closed network refuses; nothing here needs anything but the servers under test.
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

/**
 * Runs `steps(page, run)` in a fresh browser; `run.step = '...'` names the step for the failure report and
 * `run.exchanges` lists "METHOD URL STATUS" lines. The object `steps` returns is printed as the summary.
 */
export async function drive(steps) {
  const stepTimeout = Math.min(30000, timeout);
  const run = { step: 'launch', exchanges: [], console: [] };
  const userDataDir = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
  let context;
  const killer = setTimeout(() => {
    console.error(`FAIL: no result within ${timeout} ms (step: ${run.step})`);
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
    page.on('console', message => run.console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', error => run.console.push(`pageerror: ${error.message}`));
    page.on('requestfailed', request => run.exchanges.push(`${request.method()} ${request.url()} failed: ${request.failure()?.errorText}`));
    page.on('response', response => run.exchanges.push(`${response.request().method()} ${response.url()} ${response.status()}`));

    const summary = await steps(page, run);

    console.log(JSON.stringify({
      ok: true, ...summary, client: `playwright-core@${version}`, browser: browserVersion,
    }, null, 2));
    await context.close();
    clearTimeout(killer);
    rmSync(userDataDir, { recursive: true, force: true });
    process.exit(0);
  } catch (error) {
    console.error(`FAIL at step "${run.step}": ${error && error.stack ? error.stack : error}`);
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
    console.error(`browser console:\n  ${run.console.join('\n  ')}`);
    console.error(`exchanges:\n  ${run.exchanges.join('\n  ')}`);
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
}

/**
 * Swagger UI's "Authorize" with the OAuth2 password flow: fills the dialog, waits for the token request to
 * `tokenUrl` to answer 200 and the dialog to show "Remove authorization", closes it. Answers the token response.
 */
export async function authorize(page, run, { tokenUrl, email, password }) {
  run.step = 'open the Authorize dialog';
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();

  run.step = 'sign in with the OAuth2 password flow';
  const oauth = dialog.locator('.auth-container').filter({ hasText: 'OAuth2, password' });
  await oauth.locator('#oauth_username').fill(email);
  await oauth.locator('#oauth_password').fill(password);
  const isToken = r => r.url().startsWith(tokenUrl) && r.method() === 'POST';
  // A refused CORS preflight fails the request ("Failed to fetch" in the dialog) rather than answering it.
  const answered = page.waitForResponse(r => isToken(r.request()));
  const failed = page.waitForEvent('requestfailed', isToken).then(r => {
    throw new Error(`POST ${tokenUrl} failed in the browser: ${r.failure()?.errorText} (CORS?)`);
  });
  const tokenResponse = Promise.race([answered, failed]);
  // Handled where awaited; the loser of the race times out later, and that must not end the process.
  [answered, failed, tokenResponse].forEach(p => p.catch(() => {}));
  await oauth.locator('button.authorize').click();
  const token = await tokenResponse;
  if (token.status() !== 200) {
    throw new Error(`POST ${tokenUrl} answered ${token.status()}: ${await token.text()}`);
  }
  // Swagger UI shows Logout ("Remove authorization") in place of Authorize once the scheme holds a token.
  await oauth.getByRole('button', { name: 'Remove authorization' }).waitFor();

  run.step = 'close the dialog';
  await oauth.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'detached' });
  return token;
}

/**
 * "Try it out" then "Execute" on the operation with that element id; checks the request carried a Bearer token
 * and answers the status and body the page shows.
 */
export async function tryItOut(page, run, { operationId, url }) {
  run.step = `expand ${operationId}`;
  const operation = page.locator(`#${operationId}`);
  await operation.locator('.opblock-summary-control').click();
  await operation.locator('button.try-out__btn').click();

  run.step = `execute ${operationId}`;
  const response = page.waitForResponse(r => r.url() === url);
  await operation.locator('button.execute').click();
  const answered = await response;
  const authorization = await answered.request().headerValue('authorization');
  if (!authorization || !authorization.startsWith('Bearer ')) {
    throw new Error(`${url} was requested without a Bearer token: ${authorization}`);
  }

  run.step = 'read the response shown';
  const shown = operation.locator('.live-responses-table .response');
  await shown.locator('.response-col_status').waitFor();
  const status = (await shown.locator('.response-col_status').innerText()).trim();
  const body = await shown.locator('.response-col_description pre').first().innerText();
  return { status: Number(status), body };
}
