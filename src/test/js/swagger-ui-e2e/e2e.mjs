// Uses Portcullis's /docs (Swagger UI) the way a person would, in headless Chromium driven by playwright-core:
// Authorize with the OAuth2 password flow, then "Try it out" on GET /auth/v1/user and read the response shown.
// Usage: PORTCULLIS_URL=http://127.0.0.1:9999 E2E_EMAIL=... E2E_PASSWORD=... node e2e.mjs
// Optional: CHROMIUM, E2E_SCREENSHOT, E2E_TIMEOUT_MS (see harness.mjs).
// Run by SwaggerUiBrowserTest; package.json pins playwright-core.

import { authorize, drive, tryItOut } from './harness.mjs';

const url = process.env.PORTCULLIS_URL;
const email = process.env.E2E_EMAIL;
const password = process.env.E2E_PASSWORD;
if (!url || !email || !password) {
  console.error('FAIL: set PORTCULLIS_URL, E2E_EMAIL and E2E_PASSWORD');
  process.exit(2);
}

await drive(async (page, run) => {
  run.step = 'open /docs';
  await page.goto(`${url}/docs`, { waitUntil: 'load' });
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'Portcullis' }).waitFor();
  const foreign = run.exchanges.filter(e => !e.split(' ')[1].startsWith(url) && !e.split(' ')[1].startsWith('data:'));
  if (foreign.length > 0) {
    throw new Error(`the page loaded something from elsewhere: ${JSON.stringify(foreign)}`);
  }

  const token = await authorize(page, run, { tokenUrl: `${url}/auth/v1/token`, email, password });
  const { status, body } = await tryItOut(page, run, { operationId: 'operations-User-getUser', url: `${url}/auth/v1/user` });
  if (status !== 200) {
    throw new Error(`the page shows status ${status}: ${body}`);
  }
  if (!body.includes(email)) {
    throw new Error(`the response shown does not contain ${email}: ${body}`);
  }
  return { status, email, tokenRequestStatus: token.status() };
});
