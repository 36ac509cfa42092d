// A FastAPI app's /docs (Swagger UI) on another origin than Portcullis, used the way a person would in headless
// Chromium: "Authorize" with the OAuth2 password flow whose token URL is Portcullis's (a cross-origin request the
// browser preflights), then "Try it out" on GET /users/me and read the response shown.
// Usage: FASTAPI_URL=http://127.0.0.1:8000 TOKEN_URL=http://127.0.0.1:9999/auth/v1/token E2E_EMAIL=...
//        E2E_PASSWORD=... node fastapi-docs.mjs
// Optional: CHROMIUM, E2E_SCREENSHOT, E2E_TIMEOUT_MS (see harness.mjs). Run by FastApiResourceServerTest.

import { authorize, drive, tryItOut } from './harness.mjs';

const url = process.env.FASTAPI_URL;
const tokenUrl = process.env.TOKEN_URL;
const email = process.env.E2E_EMAIL;
const password = process.env.E2E_PASSWORD;
if (!url || !tokenUrl || !email || !password) {
  console.error('FAIL: set FASTAPI_URL, TOKEN_URL, E2E_EMAIL and E2E_PASSWORD');
  process.exit(2);
}

await drive(async (page, run) => {
  run.step = 'open the FastAPI app\'s /docs';
  await page.goto(`${url}/docs`, { waitUntil: 'load' });
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'FastAPI' }).waitFor();

  const token = await authorize(page, run, { tokenUrl, email, password });
  const sent = await token.request().allHeaders();

  const { status, body } = await tryItOut(page, run, {
    operationId: 'operations-default-read_users_me_users_me_get', url: `${url}/users/me`,
  });
  if (status !== 200) {
    throw new Error(`the page shows status ${status}: ${body}`);
  }
  if (!body.includes(email)) {
    throw new Error(`the response shown does not contain ${email}: ${body}`);
  }
  return {
    status, email, tokenRequestStatus: token.status(),
    tokenRequestHeaders: { 'x-requested-with': sent['x-requested-with'] || null,
      authorization: (sent.authorization || '').split(' ')[0] || null, origin: sent.origin || null },
  };
});
