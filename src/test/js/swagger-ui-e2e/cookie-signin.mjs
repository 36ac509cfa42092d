// A browser app in cookie mode: the page (served from the site origin) starts a PKCE sign-in through the provider,
// the real redirects bring it back with a code, it exchanges the code (cookies set), calls /user with cookies only,
// is refused a state change without the CSRF header and accepted with it, and signs out (cookies cleared). The
// summary holds what the page found. Environment: E2E_START (the page). Run by CookieBrowserTest.
import { drive } from './harness.mjs';

await drive(async (page, run) => {
  run.step = 'open the app, sign in at the provider, come back';
  await page.goto(process.env.E2E_START, { waitUntil: 'load' });
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 60000 });
  run.step = 'read the findings';
  const result = await page.evaluate(() => window.result);
  if (!result.ok) {
    throw new Error(`the page failed: ${result.error}`);
  }
  const cookies = await page.context().cookies();
  return { ...result, cookiesLeft: cookies.map((c) => c.name), exchanges: run.exchanges };
});
