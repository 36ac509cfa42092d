// Drives a running Portcullis with the official @supabase/supabase-js client, the way an application would.
// Usage: PORTCULLIS_URL=http://127.0.0.1:9999 node e2e.mjs
// Exits 0 and prints a JSON summary when every step holds; exits 1 with the failing step, its reason and the
// HTTP exchanges so far otherwise. Run by SupabaseJsTest; see package.json for the pinned client version.

import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createClient, isAuthApiError, isAuthWeakPasswordError, AuthWeakPasswordError } from '@supabase/supabase-js';
import WebSocket from 'ws';

const url = process.env.PORTCULLIS_URL;
if (!url) {
  console.error('FAIL: set PORTCULLIS_URL to the server base URL, e.g. http://127.0.0.1:9999');
  process.exit(2);
}

// Every HTTP exchange the client makes: method, path, status and the error code of an error body. Getting
// getClaims' JWKS fetch and the wire code behind a client-side error class needs this.
const exchanges = [];
const realFetch = globalThis.fetch;
async function recordingFetch(input, init) {
  const target = new URL(input instanceof Request ? input.url : String(input));
  const method = (init && init.method) || (input instanceof Request ? input.method : 'GET');
  const response = await realFetch(input, init);
  const entry = { method, path: target.pathname + target.search, status: response.status };
  if (response.status >= 400) {
    try {
      const body = await response.clone().json();
      entry.code = typeof body.code === 'string' ? body.code : body.error_code;
    } catch {
      entry.code = '<non-JSON body>';
    }
  }
  exchanges.push(entry);
  return response;
}
globalThis.fetch = recordingFetch;

const clientVersion = JSON.parse(readFileSync(
  new URL('./node_modules/@supabase/supabase-js/package.json', import.meta.url), 'utf8')).version;

function client(storageKey) {
  return createClient(url, 'any-anon-key', {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, storageKey },
    global: { fetch: recordingFetch },
    // Node 20 has no global WebSocket; realtime-js refuses to construct without one.
    realtime: { transport: WebSocket },
  });
}

class StepFailure extends Error {}

function check(condition, message, detail) {
  if (!condition) {
    throw new StepFailure(detail === undefined ? message : `${message}: ${JSON.stringify(detail)}`);
  }
}

function equal(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function describeError(error) {
  return error && { name: error.name, message: error.message, status: error.status, code: error.code };
}

function noError(error, what) {
  check(!error, `${what} failed`, describeError(error));
}

function decodeJwt(token) {
  const [header, payload] = token.split('.').slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

const steps = [];
async function step(name, body) {
  const from = exchanges.length;
  try {
    const detail = await body();
    steps.push({ step: name, ok: true, requests: exchanges.slice(from).map((e) => `${e.method} ${e.path} ${e.status}`),
      ...(detail ? { detail } : {}) });
  } catch (e) {
    console.error(`FAIL step "${name}": ${e instanceof StepFailure ? e.message : (e && e.stack) || e}`);
    console.error(`HTTP exchanges of this step: ${JSON.stringify(exchanges.slice(from), null, 2)}`);
    console.error(`Steps passed before it: ${JSON.stringify(steps.map((s) => s.step))}`);
    process.exit(1);
  }
}

// The Java side has its own timeout; this one makes a hung request fail with a message instead of a kill.
setTimeout(() => {
  console.error(`FAIL: timed out; HTTP exchanges: ${JSON.stringify(exchanges, null, 2)}`);
  process.exit(1);
}, Number(process.env.E2E_TIMEOUT_MS || 90_000)).unref();

const supabase = client('portcullis-e2e');
const other = client('portcullis-e2e-errors');
const email = `e2e-${randomUUID()}@example.com`;
const password = 'first-Password-1';
const newPassword = 'second-Password-2';
let userId;
let session;

await step('signUp returns a session (autoconfirm)', async () => {
  const { data, error } = await supabase.auth.signUp({
    email, password, options: { data: { display_name: 'Ada', plan: 'free' } },
  });
  noError(error, 'signUp');
  check(data.session, 'signUp answered no session although autoconfirm is on', data);
  check(typeof data.session.access_token === 'string' && data.session.access_token.split('.').length === 3,
    'access_token is not a JWT', data.session.access_token);
  check(typeof data.session.refresh_token === 'string' && data.session.refresh_token.length > 0, 'no refresh_token');
  check(data.session.expires_in > 0, 'expires_in is not positive', data.session.expires_in);
  equal(data.session.token_type, 'bearer', 'token_type');
  equal(data.user.email, email, 'user.email');
  equal(data.user.user_metadata.display_name, 'Ada', 'user_metadata.display_name');
  equal(data.user.user_metadata.plan, 'free', 'user_metadata.plan');
  check(data.user.email_confirmed_at, 'email_confirmed_at missing with autoconfirm', data.user);
  userId = data.user.id;
  return { user_id: userId };
});

await step('signInWithPassword returns a session with the user', async () => {
  const { data, error } = await supabase.auth.signInWithPassword({ email, password });
  noError(error, 'signInWithPassword');
  check(data.session && data.session.access_token, 'no session', data);
  equal(data.user.id, userId, 'user.id');
  equal(data.session.user.id, userId, 'session.user.id');
  const { payload } = decodeJwt(data.session.access_token);
  equal(payload.sub, userId, 'access token sub');
  equal(payload.aud, 'authenticated', 'access token aud');
  equal(payload.role, 'authenticated', 'access token role');
  session = data.session;
});

await step('getUser returns the signed-in user', async () => {
  const { data, error } = await supabase.auth.getUser();
  noError(error, 'getUser');
  equal(data.user.id, userId, 'user.id');
  equal(data.user.email, email, 'user.email');
  equal(data.user.aud, 'authenticated', 'user.aud');
  check(data.user.app_metadata && data.user.app_metadata.provider === 'email', 'app_metadata.provider is not email',
    data.user.app_metadata);
});

await step('updateUser merges data into user_metadata', async () => {
  const { data, error } = await supabase.auth.updateUser({ data: { plan: 'pro', theme: 'dark' } });
  noError(error, 'updateUser');
  const metadata = data.user.user_metadata;
  equal(metadata.display_name, 'Ada', 'kept user_metadata.display_name');
  equal(metadata.plan, 'pro', 'updated user_metadata.plan');
  equal(metadata.theme, 'dark', 'added user_metadata.theme');
  const again = await supabase.auth.getUser();
  noError(again.error, 'getUser after updateUser');
  equal(again.data.user.user_metadata.theme, 'dark', 'user_metadata.theme read back');
});

await step('updateUser changes the password; the new one signs in, the old one does not', async () => {
  const { data, error } = await supabase.auth.updateUser({ password: newPassword });
  noError(error, 'updateUser password');
  equal(data.user.id, userId, 'user.id');
  const old = await other.auth.signInWithPassword({ email, password });
  check(old.error, 'the old password still signs in');
  equal(old.error.code, 'invalid_credentials', 'old password error code');
  const signIn = await supabase.auth.signInWithPassword({ email, password: newPassword });
  noError(signIn.error, 'signInWithPassword with the new password');
  equal(signIn.data.user.id, userId, 'user.id');
  session = signIn.data.session;
});

await step('refreshSession rotates both tokens', async () => {
  const { data, error } = await supabase.auth.refreshSession();
  noError(error, 'refreshSession');
  check(data.session, 'no session', data);
  check(data.session.access_token !== session.access_token, 'access_token did not change');
  check(data.session.refresh_token !== session.refresh_token, 'refresh_token did not change');
  equal(data.session.user.id, userId, 'session.user.id');
  equal(decodeJwt(data.session.access_token).payload.session_id, decodeJwt(session.access_token).payload.session_id,
    'session_id across a refresh');
  session = data.session;
});

await step('getClaims verifies the ES256 token locally with the JWKS', async () => {
  const from = exchanges.length;
  const { data, error } = await supabase.auth.getClaims();
  noError(error, 'getClaims');
  check(data && data.claims, 'getClaims returned no claims', data);
  equal(data.header.alg, 'ES256', 'header.alg');
  check(typeof data.header.kid === 'string' && data.header.kid.length > 0, 'header has no kid', data.header);
  equal(data.claims.sub, userId, 'claims.sub');
  equal(data.claims.session_id, decodeJwt(session.access_token).payload.session_id, 'claims.session_id');
  for (const claim of ['iss', 'aud', 'exp', 'iat', 'role', 'aal', 'session_id']) {
    check(data.claims[claim] !== undefined, `claims lack ${claim}`, data.claims);
  }
  const made = exchanges.slice(from).map((e) => `${e.method} ${new URL(e.path, url).pathname}`);
  check(made.includes('GET /auth/v1/.well-known/jwks.json'), 'getClaims did not fetch the JWKS', made);
  // Falling back to GET /user would mean the client could not verify the signature itself.
  check(!made.includes('GET /auth/v1/user'), 'getClaims fell back to GET /user instead of verifying locally', made);
  return { kid: data.header.kid, jwks_fetched: true };
});

await step('wrong password fails with invalid_credentials', async () => {
  const { data, error } = await other.auth.signInWithPassword({ email, password: 'not-the-password-9' });
  check(error, 'signing in with a wrong password succeeded', data);
  check(isAuthApiError(error), 'not an AuthApiError', describeError(error));
  equal(error.code, 'invalid_credentials', 'error.code');
  equal(error.status, 400, 'error.status');
  check(!data.session, 'a session came back with the error', data);
});

await step('signUp with a taken email fails with user_already_exists', async () => {
  const { error } = await other.auth.signUp({ email, password: 'another-Password-3' });
  check(error, 'a second signUp with the same email succeeded');
  equal(error.code, 'user_already_exists', 'error.code');
  equal(error.status, 422, 'error.status');
});

await step('signUp with a short password fails with AuthWeakPasswordError', async () => {
  const { error } = await other.auth.signUp({ email: `e2e-${randomUUID()}@example.com`, password: 'short' });
  check(error, 'signUp with a 5-character password succeeded');
  check(error instanceof AuthWeakPasswordError && isAuthWeakPasswordError(error), 'not an AuthWeakPasswordError',
    describeError(error));
  equal(error.code, 'weak_password', 'error.code');
  equal(error.status, 422, 'error.status');
  check(Array.isArray(error.reasons) && error.reasons.includes('length'), 'reasons lack "length"', error.reasons);
  return { reasons: error.reasons };
});

await step('signOut ends the session: the old access token gets session_not_found', async () => {
  const oldAccessToken = session.access_token;
  const oldRefreshToken = session.refresh_token;
  const { error } = await supabase.auth.signOut();
  noError(error, 'signOut');
  const logout = exchanges.filter((e) => e.path.startsWith('/auth/v1/logout')).pop();
  check(logout && logout.status === 204, 'POST /logout did not answer 204', logout);
  const local = await supabase.auth.getSession();
  check(!local.data.session, 'the client still holds a session after signOut', local.data);

  const from = exchanges.length;
  const after = await other.auth.getUser(oldAccessToken);
  check(after.error, 'getUser with the signed-out access token succeeded', after.data);
  // auth-js turns the wire's session_not_found into AuthSessionMissingError (fetch.ts handleError), whose own
  // code is undefined; so the wire answer is checked as recorded.
  equal(after.error.name, 'AuthSessionMissingError', 'client error class');
  const wire = exchanges.slice(from).find((e) => e.path === '/auth/v1/user');
  check(wire, 'getUser sent no GET /user', exchanges.slice(from));
  equal(wire.status, 403, 'GET /user status');
  equal(wire.code, 'session_not_found', 'GET /user error code');

  const refresh = await other.auth.refreshSession({ refresh_token: oldRefreshToken });
  check(refresh.error, 'the signed-out refresh token still refreshes', refresh.data);
  equal(refresh.error.code, 'refresh_token_not_found', 'refresh after signOut: error.code');
  equal(refresh.error.status, 400, 'refresh after signOut: error.status');
});

console.log(JSON.stringify({
  ok: true,
  client: `@supabase/supabase-js@${clientVersion}`,
  node: process.version,
  server: url,
  steps,
  requests: exchanges.length,
}, null, 2));
process.exit(0);
