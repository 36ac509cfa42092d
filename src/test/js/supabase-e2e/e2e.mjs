// Drives a running Portcullis with the official @supabase/supabase-js client, the way an application would.
// Usage: PORTCULLIS_URL=http://127.0.0.1:9999 [E2E_FLOW=core] node e2e.mjs
// E2E_FLOW picks one flow (default core; see `flows` at the end for each one's inputs). Mail flows run in two
// invocations around the mail: the first makes the server send it, SupabaseJsTest reads the code from its SMTP
// server, the second is given it in E2E_CODE.
// Exits 0 and prints a JSON summary when every step holds; exits 1 with the failing step, its reason and the
// HTTP exchanges so far otherwise. Run by SupabaseJsTest; see package.json for the pinned client version.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createClient, isAuthApiError, isAuthWeakPasswordError, AuthWeakPasswordError } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { generateSync } from 'otplib';

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

function client(storageKey, key = 'any-anon-key') {
  return createClient(url, key, {
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

async function coreFlow() {
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
}

function input(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`FAIL: flow ${flow} needs ${name}`);
    process.exit(2);
  }
  return value;
}

/** The wire answer of the last request to `path` made since exchange `from` (to see behind client errors). */
function lastExchange(from, path) {
  return exchanges.slice(from).filter((e) => new URL(e.path, url).pathname === path).pop();
}

// The admin API with the service key (E2E_SERVICE_KEY), as a server-side application uses it.
async function adminFlow() {
  const serviceKey = input('E2E_SERVICE_KEY');
  const admin = createClient(url, serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: recordingFetch },
    realtime: { transport: WebSocket },
  }).auth.admin;
  const user = client('portcullis-e2e-admin-user');
  const password = 'admin-Made-1';
  const created = [];

  await step('admin.createUser with email_confirm makes users who can sign in', async () => {
    for (let i = 0; i < 3; i++) {
      const email = `e2e-admin-${randomUUID()}@example.com`;
      const { data, error } = await admin.createUser({
        email, password, email_confirm: true, user_metadata: { n: i }, app_metadata: { plan: 'trial' },
      });
      noError(error, 'admin.createUser');
      check(data.user && typeof data.user.id === 'string', 'createUser returned no user', data);
      equal(data.user.email, email, 'user.email');
      check(data.user.email_confirmed_at, 'email_confirmed_at missing with email_confirm', data.user);
      equal(data.user.user_metadata.n, i, 'user_metadata.n');
      equal(data.user.app_metadata.plan, 'trial', 'app_metadata.plan');
      created.push(data.user);
    }
    const signIn = await user.auth.signInWithPassword({ email: created[0].email, password });
    noError(signIn.error, 'signInWithPassword as an admin-made user');
    equal(signIn.data.user.id, created[0].id, 'user.id');
    const taken = await admin.createUser({ email: created[0].email, password, email_confirm: true });
    check(taken.error, 'createUser with a taken email succeeded', taken.data);
    equal(taken.error.code, 'email_exists', 'taken email: error.code');
    equal(taken.error.status, 422, 'taken email: error.status');
    return { ids: created.map((u) => u.id) };
  });

  await step('admin.listUsers parses the pagination headers', async () => {
    const { data, error } = await admin.listUsers({ page: 1, perPage: 2 });
    noError(error, 'admin.listUsers page 1');
    equal(data.users.length, 2, 'users on page 1');
    equal(data.aud, 'authenticated', 'aud');
    check(Number.isInteger(data.total) && data.total >= created.length, 'total not parsed', data.total);
    const lastPage = Math.ceil(data.total / 2);
    // auth-js reads one digit of the page number: more than 18 users would not parse, whatever the server does.
    check(lastPage <= 9, 'too many users for auth-js to parse the last page', data.total);
    equal(data.nextPage, 2, 'nextPage');
    equal(data.lastPage, lastPage, 'lastPage');

    const last = await admin.listUsers({ page: lastPage, perPage: 2 });
    noError(last.error, 'admin.listUsers last page');
    equal(last.data.nextPage, null, 'nextPage on the last page');
    equal(last.data.lastPage, lastPage, 'lastPage on the last page');
    equal(last.data.users.length, data.total - 2 * (lastPage - 1), 'users on the last page');

    const from = exchanges.length;
    const all = await admin.listUsers();
    noError(all.error, 'admin.listUsers without parameters');
    const sent = lastExchange(from, '/auth/v1/admin/users');
    check(sent && sent.path.includes('page=&per_page='), 'listUsers() did not send empty page parameters', sent);
    equal(all.data.total, data.total, 'total without parameters');
    equal(all.data.users.length, data.total, 'users on the default page');
    for (const u of created) {
      check(all.data.users.some((listed) => listed.id === u.id), 'a created user is not listed', u.id);
    }
    return { total: data.total, lastPage };
  });

  await step('admin.getUserById answers the user, and user_not_found for an unknown id', async () => {
    const { data, error } = await admin.getUserById(created[1].id);
    noError(error, 'admin.getUserById');
    equal(data.user.id, created[1].id, 'user.id');
    equal(data.user.email, created[1].email, 'user.email');
    const unknown = await admin.getUserById(randomUUID());
    check(unknown.error, 'getUserById of an unknown id succeeded', unknown.data);
    equal(unknown.error.code, 'user_not_found', 'unknown id: error.code');
    equal(unknown.error.status, 404, 'unknown id: error.status');
  });

  await step('admin.updateUserById changes metadata and password; a ban refuses sign-in until lifted', async () => {
    const target = created[1];
    const { data, error } = await admin.updateUserById(target.id, {
      password: 'admin-Changed-2', user_metadata: { n: null, plan: 'pro' },
    });
    noError(error, 'admin.updateUserById');
    equal(data.user.id, target.id, 'user.id');
    equal(data.user.user_metadata.plan, 'pro', 'user_metadata.plan');
    check(!('n' in data.user.user_metadata), 'a null metadata value was not removed', data.user.user_metadata);
    const oldPassword = await user.auth.signInWithPassword({ email: target.email, password });
    check(oldPassword.error, 'the old password still signs in');
    equal(oldPassword.error.code, 'invalid_credentials', 'old password: error.code');
    const signIn = await user.auth.signInWithPassword({ email: target.email, password: 'admin-Changed-2' });
    noError(signIn.error, 'signInWithPassword with the password set by the admin');
    const signedIn = signIn.data.session;

    const ban = await admin.updateUserById(target.id, { ban_duration: '24h' });
    noError(ban.error, 'admin.updateUserById ban_duration');
    check(ban.data.user.banned_until, 'banned_until missing after a ban', ban.data.user);
    const refused = await user.auth.signInWithPassword({ email: target.email, password: 'admin-Changed-2' });
    check(refused.error, 'a banned user signed in', refused.data);
    equal(refused.error.code, 'user_banned', 'banned: error.code');
    equal(refused.error.status, 400, 'banned: error.status');
    const from = exchanges.length;
    const me = await user.auth.getUser(signedIn.access_token);
    check(me.error, 'the banned user\'s access token still works', me.data);
    const wire = lastExchange(from, '/auth/v1/user');
    check(wire && wire.status === 403 && wire.code === 'session_not_found', 'the ban did not end the session', wire);

    const lift = await admin.updateUserById(target.id, { ban_duration: 'none' });
    noError(lift.error, 'admin.updateUserById ban_duration none');
    check(!lift.data.user.banned_until, 'banned_until still set after lifting the ban', lift.data.user);
    const again = await user.auth.signInWithPassword({ email: target.email, password: 'admin-Changed-2' });
    noError(again.error, 'signInWithPassword after the ban was lifted');
  });

  await step('an ordinary user\'s token is refused with not_admin', async () => {
    const signIn = await user.auth.signInWithPassword({ email: created[0].email, password });
    noError(signIn.error, 'signInWithPassword');
    const asUser = client('portcullis-e2e-not-admin', signIn.data.session.access_token).auth.admin;
    const { error } = await asUser.listUsers();
    check(error, 'an ordinary user listed the users');
    equal(error.code, 'not_admin', 'error.code');
    equal(error.status, 403, 'error.status');
  });

  await step('admin.deleteUser removes users, hard and soft', async () => {
    const hard = await admin.deleteUser(created[0].id);
    noError(hard.error, 'admin.deleteUser');
    equal(hard.data.user.id, created[0].id, 'deleted user.id');
    const soft = await admin.deleteUser(created[2].id, true);
    noError(soft.error, 'admin.deleteUser soft');
    for (const u of [created[0], created[2]]) {
      const gone = await admin.getUserById(u.id);
      check(gone.error, 'a deleted user is still found', gone.data);
      equal(gone.error.code, 'user_not_found', 'deleted: error.code');
      equal(gone.error.status, 404, 'deleted: error.status');
      const signIn = await user.auth.signInWithPassword({ email: u.email, password });
      check(signIn.error, 'a deleted user signed in', signIn.data);
      equal(signIn.error.code, 'invalid_credentials', 'deleted user sign-in: error.code');
    }
  });
}

// Password recovery by mail, first half: an account (E2E_EMAIL, E2E_PASSWORD) asks for a recovery mail.
async function recoveryRequestFlow() {
  const email = input('E2E_EMAIL');
  const password = input('E2E_PASSWORD');
  const supabase = client('portcullis-e2e-recovery');
  await step('signUp the account to recover', async () => {
    const { data, error } = await supabase.auth.signUp({ email, password });
    noError(error, 'signUp');
    check(data.session, 'no session with autoconfirm', data);
  });
  await step('resetPasswordForEmail answers without error, for a known and an unknown address alike', async () => {
    const { data, error } = await supabase.auth.resetPasswordForEmail(email);
    noError(error, 'resetPasswordForEmail');
    equal(JSON.stringify(data), '{}', 'data');
    const unknown = await supabase.auth.resetPasswordForEmail(`e2e-nobody-${randomUUID()}@example.com`);
    noError(unknown.error, 'resetPasswordForEmail of an unknown address');
    equal(JSON.stringify(unknown.data), '{}', 'data for an unknown address');
  });
}

// Password recovery by mail, second half: the code from the mail (E2E_CODE) signs in; a new password is set.
async function recoveryCompleteFlow() {
  const email = input('E2E_EMAIL');
  const password = input('E2E_PASSWORD');
  const code = input('E2E_CODE');
  const newPassword = input('E2E_NEW_PASSWORD');
  const supabase = client('portcullis-e2e-recovery');
  const other = client('portcullis-e2e-recovery-other');
  const events = [];
  supabase.auth.onAuthStateChange((event) => events.push(event));

  await step('verifyOtp type recovery with the mailed code answers a session', async () => {
    const { data, error } = await supabase.auth.verifyOtp({ email, token: code, type: 'recovery' });
    noError(error, 'verifyOtp recovery');
    check(data.session && data.session.access_token, 'no session', data);
    equal(data.user.email, email, 'user.email');
    check(events.includes('PASSWORD_RECOVERY'), 'no PASSWORD_RECOVERY event', events);
    const again = await other.auth.verifyOtp({ email, token: code, type: 'recovery' });
    check(again.error, 'the recovery code was accepted twice', again.data);
    equal(again.error.code, 'otp_expired', 'second use: error.code');
    equal(again.error.status, 403, 'second use: error.status');
    return { events };
  });

  await step('updateUser sets the new password; it signs in, the old one does not', async () => {
    const { data, error } = await supabase.auth.updateUser({ password: newPassword });
    noError(error, 'updateUser password');
    equal(data.user.email, email, 'user.email');
    const old = await other.auth.signInWithPassword({ email, password });
    check(old.error, 'the old password still signs in');
    equal(old.error.code, 'invalid_credentials', 'old password: error.code');
    const signIn = await other.auth.signInWithPassword({ email, password: newPassword });
    noError(signIn.error, 'signInWithPassword with the new password');
    equal(signIn.data.user.email, email, 'user.email');
  });
}

// Sign-up with confirmation by mail (server with autoconfirm off), first half: signUp answers a user, no session.
async function signupRequestFlow() {
  const email = input('E2E_EMAIL');
  const password = input('E2E_PASSWORD');
  const supabase = client('portcullis-e2e-confirm');
  await step('signUp with confirmation required answers the user and no session', async () => {
    const { data, error } = await supabase.auth.signUp({ email, password, options: { data: { plan: 'free' } } });
    noError(error, 'signUp');
    check(data.user && typeof data.user.id === 'string', 'no user', data);
    check(!data.session, 'a session came back although confirmation is required', data);
    equal(data.user.email, email, 'user.email');
    check(!data.user.email_confirmed_at, 'email_confirmed_at set before confirmation', data.user);
    check(data.user.confirmation_sent_at, 'confirmation_sent_at missing', data.user);
    const signIn = await supabase.auth.signInWithPassword({ email, password });
    check(signIn.error, 'signed in before confirming', signIn.data);
    equal(signIn.error.code, 'email_not_confirmed', 'error.code');
    equal(signIn.error.status, 400, 'error.status');
  });
}

// Sign-up confirmation, second half: the mailed code (E2E_CODE) confirms the address and signs in.
async function signupCompleteFlow() {
  const email = input('E2E_EMAIL');
  const password = input('E2E_PASSWORD');
  const code = input('E2E_CODE');
  const supabase = client('portcullis-e2e-confirm');
  await step('verifyOtp type signup with the mailed code confirms and answers a session', async () => {
    const { data, error } = await supabase.auth.verifyOtp({ email, token: code, type: 'signup' });
    noError(error, 'verifyOtp signup');
    check(data.session && data.session.access_token && data.session.refresh_token, 'no session', data);
    equal(data.user.email, email, 'user.email');
    check(data.user.email_confirmed_at, 'email_confirmed_at missing after confirmation', data.user);
    equal(data.user.user_metadata.plan, 'free', 'user_metadata.plan');
    const me = await supabase.auth.getUser();
    noError(me.error, 'getUser with the confirmed session');
    equal(me.data.user.email, email, 'user.email');
  });
  await step('the confirmed user signs in with the password', async () => {
    const { data, error } = await client('portcullis-e2e-confirm-other').auth.signInWithPassword({ email, password });
    noError(error, 'signInWithPassword after confirmation');
    equal(data.user.email, email, 'user.email');
  });
}

/** A claim added by a custom access token hook (served elsewhere) reaches the client: getClaims() shows it. */
async function hookClaimsFlow() {
  const supabase = client('portcullis-e2e-hook');
  const email = `e2e-hook-${randomUUID()}@example.com`;
  const claim = input('E2E_CLAIM');
  const expected = input('E2E_CLAIM_VALUE');

  await step('signUp returns a session whose token went through the hook', async () => {
    const { data, error } = await supabase.auth.signUp({ email, password: 'hooked-Password-1' });
    noError(error, 'signUp');
    check(data.session, 'signUp answered no session although autoconfirm is on', data);
    equal(decodeJwt(data.session.access_token).payload[claim], expected, `access token claim ${claim}`);
  });

  await step('getClaims verifies the hooked token and shows the added claim', async () => {
    const { data, error } = await supabase.auth.getClaims();
    noError(error, 'getClaims');
    check(data && data.claims, 'getClaims returned no claims', data);
    equal(data.claims[claim], expected, `getClaims().claims.${claim}`);
    return { [claim]: data.claims[claim] };
  });
}

// TOTP MFA end to end: enrol, challenge, verify (codes from otplib, computed from the returned secret), the
// assurance levels, a replayed code, the aal2 rule on password changes, the admin factor API, unenrolment.
async function mfaFlow() {
  const serviceKey = input('E2E_SERVICE_KEY');
  const admin = createClient(url, serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: recordingFetch },
    realtime: { transport: WebSocket },
  }).auth.admin;
  const supabase = client('portcullis-e2e-mfa');
  const email = `e2e-mfa-${randomUUID()}@example.com`;
  const password = 'mfa-Password-1';
  let userId;
  let factorId;
  let secret;
  let usedCode;

  await step('a fresh user is at aal1 with nothing more to reach', async () => {
    const { data, error } = await supabase.auth.signUp({ email, password });
    noError(error, 'signUp');
    userId = data.user.id;
    const aal = await supabase.auth.mfa.getAuthenticatorAssuranceLevel();
    noError(aal.error, 'getAuthenticatorAssuranceLevel');
    equal(aal.data.currentLevel, 'aal1', 'currentLevel');
    equal(aal.data.nextLevel, 'aal1', 'nextLevel');
  });

  await step('mfa.enroll answers a TOTP secret, URI and SVG QR code', async () => {
    const { data, error } = await supabase.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'e2e phone' });
    noError(error, 'mfa.enroll');
    equal(data.type, 'totp', 'type');
    equal(data.friendly_name, 'e2e phone', 'friendly_name');
    check(data.totp.qr_code.startsWith('data:image/svg+xml;utf-8,<svg'), 'qr_code is not an SVG data URL',
      data.totp.qr_code.slice(0, 60));
    check(/^[A-Z2-7]{32}$/.test(data.totp.secret), 'secret is not base32', data.totp.secret);
    check(data.totp.uri.startsWith('otpauth://totp/') && data.totp.uri.includes(`secret=${data.totp.secret}`),
      'uri', data.totp.uri);
    factorId = data.id;
    secret = data.totp.secret;
    const listed = await supabase.auth.mfa.listFactors();
    noError(listed.error, 'mfa.listFactors');
    equal(listed.data.all.length, 1, 'all factors');
    equal(listed.data.all[0].status, 'unverified', 'status before verification');
    equal(listed.data.totp.length, 0, 'verified totp factors before verification');
  });

  await step('mfa.challenge and mfa.verify with the otplib code raise the session to aal2', async () => {
    const challenge = await supabase.auth.mfa.challenge({ factorId });
    noError(challenge.error, 'mfa.challenge');
    check(typeof challenge.data.id === 'string' && challenge.data.expires_at > Date.now() / 1000, 'challenge',
      challenge.data);
    usedCode = generateSync({ secret });
    const { data, error } = await supabase.auth.mfa.verify({ factorId, challengeId: challenge.data.id, code: usedCode });
    noError(error, 'mfa.verify');
    const claims = decodeJwt(data.access_token).payload;
    equal(claims.aal, 'aal2', 'aal claim');
    equal(claims.amr[0].method, 'totp', 'newest amr method');
    const aal = await supabase.auth.mfa.getAuthenticatorAssuranceLevel();
    noError(aal.error, 'getAuthenticatorAssuranceLevel');
    equal(aal.data.currentLevel, 'aal2', 'currentLevel');
    equal(aal.data.nextLevel, 'aal2', 'nextLevel');
    check(aal.data.currentAuthenticationMethods.some((m) => m.method === 'totp'), 'no totp method',
      aal.data.currentAuthenticationMethods);
    const listed = await supabase.auth.mfa.listFactors();
    noError(listed.error, 'mfa.listFactors');
    equal(listed.data.totp.length, 1, 'verified totp factors');
    equal(listed.data.totp[0].id, factorId, 'factor id');
    const { data: { session } } = await supabase.auth.getSession();
    equal(decodeJwt(session.access_token).payload.aal, 'aal2', 'stored session aal');
  });

  await step('the same code is refused a second time within its window', async () => {
    const { data, error } = await supabase.auth.mfa.challengeAndVerify({ factorId, code: usedCode });
    check(error, 'a replayed code was accepted', data);
    equal(error.code, 'mfa_verification_failed', 'error.code');
    equal(error.status, 422, 'error.status');
  });

  await step('a password sign-in is aal1 with aal2 next, and cannot change the password', async () => {
    const other = client('portcullis-e2e-mfa-other');
    const signIn = await other.auth.signInWithPassword({ email, password });
    noError(signIn.error, 'signInWithPassword');
    const aal = await other.auth.mfa.getAuthenticatorAssuranceLevel();
    equal(aal.data.currentLevel, 'aal1', 'currentLevel');
    equal(aal.data.nextLevel, 'aal2', 'nextLevel');
    const change = await other.auth.updateUser({ password: 'changed-Password-2' });
    check(change.error, 'an aal1 session changed the password of an MFA user', change.data);
    equal(change.error.code, 'insufficient_aal', 'error.code');
    equal(change.error.status, 401, 'error.status');
    const unenroll = await other.auth.mfa.unenroll({ factorId });
    check(unenroll.error, 'an aal1 session removed a verified factor', unenroll.data);
    equal(unenroll.error.code, 'insufficient_aal', 'unenroll error.code');
  });

  await step('auth.admin.mfa lists the factors and deletes one', async () => {
    const listed = await admin.mfa.listFactors({ userId });
    noError(listed.error, 'admin.mfa.listFactors');
    equal(listed.data.factors.length, 1, 'factors');
    equal(listed.data.factors[0].status, 'verified', 'status');
    const spare = await supabase.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'spare' });
    noError(spare.error, 'mfa.enroll of a second factor at aal2');
    const deleted = await admin.mfa.deleteFactor({ userId, id: spare.data.id });
    noError(deleted.error, 'admin.mfa.deleteFactor');
    // auth-js 2.109 wraps this answer once more than its type says: data is {data: <factor>, error: null}.
    equal(deleted.data.data.id, spare.data.id, 'deleted id');
    const after = await admin.mfa.listFactors({ userId });
    equal(after.data.factors.length, 1, 'factors after deletion');
  });

  await step('mfa.unenroll from the aal2 session removes the factor', async () => {
    const { data, error } = await supabase.auth.mfa.unenroll({ factorId });
    noError(error, 'mfa.unenroll');
    equal(data.id, factorId, 'unenrolled id');
    const listed = await supabase.auth.mfa.listFactors();
    noError(listed.error, 'mfa.listFactors');
    equal(listed.data.all.length, 0, 'factors after unenrolment');
  });
}

// Anonymous sign-in: signInAnonymously, what the token says, no factors, conversion by updateUser({email}).
async function anonymousFlow() {
  const supabase = client('portcullis-e2e-anonymous');
  const email = `e2e-anon-${randomUUID()}@example.com`;
  const password = 'anon-Password-1';
  let userId;

  await step('signInAnonymously answers a session of an anonymous user', async () => {
    const { data, error } = await supabase.auth.signInAnonymously({ options: { data: { theme: 'dark' } } });
    noError(error, 'signInAnonymously');
    check(data.session && data.session.access_token, 'no session', data);
    equal(data.user.is_anonymous, true, 'user.is_anonymous');
    equal(data.user.user_metadata.theme, 'dark', 'user_metadata.theme');
    const claims = decodeJwt(data.session.access_token).payload;
    equal(claims.is_anonymous, true, 'is_anonymous claim');
    equal(claims.amr[0].method, 'anonymous', 'amr method');
    userId = data.user.id;
    const me = await supabase.auth.getUser();
    noError(me.error, 'getUser');
    equal(me.data.user.id, userId, 'user.id');
  });

  await step('an anonymous user cannot enrol a factor', async () => {
    const { data, error } = await supabase.auth.mfa.enroll({ factorType: 'totp' });
    check(error, 'an anonymous user enrolled a factor', data);
    equal(error.code, 'no_authorization', 'error.code');
    equal(error.status, 403, 'error.status');
  });

  await step('updateUser({email, password}) makes the user permanent', async () => {
    const { data, error } = await supabase.auth.updateUser({ email, password });
    noError(error, 'updateUser');
    equal(data.user.id, userId, 'user.id');
    equal(data.user.email, email, 'user.email');
    equal(data.user.is_anonymous, false, 'user.is_anonymous');
    const signIn = await client('portcullis-e2e-anonymous-later').auth.signInWithPassword({ email, password });
    noError(signIn.error, 'signInWithPassword as the converted user');
    equal(signIn.data.user.id, userId, 'signed-in user.id');
    equal(decodeJwt(signIn.data.session.access_token).payload.is_anonymous, false, 'is_anonymous claim');
  });
}

// Re-authentication, first half (the server requires a nonce for every password change): an admin-made user
// signs in, a password change without a nonce is refused, reauthenticate() mails the nonce.
async function reauthRequestFlow() {
  const serviceKey = input('E2E_SERVICE_KEY');
  const email = input('E2E_EMAIL');
  const password = input('E2E_PASSWORD');
  const admin = createClient(url, serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: recordingFetch },
    realtime: { transport: WebSocket },
  }).auth.admin;
  const supabase = client('portcullis-e2e-reauth');
  await step('a password change without a nonce is refused with reauthentication_needed', async () => {
    const created = await admin.createUser({ email, password, email_confirm: true });
    noError(created.error, 'admin.createUser');
    const signIn = await supabase.auth.signInWithPassword({ email, password });
    noError(signIn.error, 'signInWithPassword');
    const { data, error } = await supabase.auth.updateUser({ password: 'no-Nonce-Given-1' });
    check(error, 'the password changed without a nonce', data);
    equal(error.code, 'reauthentication_needed', 'error.code');
    equal(error.status, 400, 'error.status');
  });
  await step('reauthenticate() mails a nonce', async () => {
    const { error } = await supabase.auth.reauthenticate();
    noError(error, 'reauthenticate');
  });
}

// Re-authentication, second half: the mailed nonce (E2E_CODE) lets updateUser change the password, once.
async function reauthCompleteFlow() {
  const email = input('E2E_EMAIL');
  const password = input('E2E_PASSWORD');
  const nonce = input('E2E_CODE');
  const newPassword = input('E2E_NEW_PASSWORD');
  const supabase = client('portcullis-e2e-reauth-complete');
  await step('updateUser({password, nonce}) with the mailed nonce changes the password', async () => {
    const signIn = await supabase.auth.signInWithPassword({ email, password });
    noError(signIn.error, 'signInWithPassword');
    const wrong = await supabase.auth.updateUser({ password: newPassword, nonce: nonce === '000000' ? '111111' : '000000' });
    check(wrong.error, 'a wrong nonce was accepted', wrong.data);
    equal(wrong.error.code, 'reauthentication_not_valid', 'wrong nonce: error.code');
    const { error } = await supabase.auth.updateUser({ password: newPassword, nonce });
    noError(error, 'updateUser with the nonce');
    const again = await client('portcullis-e2e-reauth-again').auth.signInWithPassword({ email, password: newPassword });
    noError(again.error, 'signInWithPassword with the new password');
  });
}

// ---- PKCE, external providers, identities, admin links ----

// A PKCE client whose storage (the code verifier) lives in a JSON file, so that the two invocations around a mail
// share it as one browser would.
function pkceClient(storageKey, file) {
  const read = () => {
    const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    return text ? JSON.parse(text) : {};
  };
  const storage = {
    getItem: (key) => read()[key] ?? null,
    setItem: (key, value) => writeFileSync(file, JSON.stringify({ ...read(), [key]: value })),
    removeItem: (key) => { const all = read(); delete all[key]; writeFileSync(file, JSON.stringify(all)); },
  };
  return createClient(url, 'any-anon-key', {
    auth: { flowType: 'pkce', persistSession: true, storage, autoRefreshToken: false, detectSessionInUrl: false,
      storageKey },
    global: { fetch: recordingFetch },
    realtime: { transport: WebSocket },
  });
}

// Follows a browser's redirects (Portcullis → provider → Portcullis) until they leave for the app's redirectTo.
async function followToApp(start, appPrefix) {
  let target = start;
  for (let i = 0; i < 10; i++) {
    if (target.startsWith(appPrefix)) {
      return new URL(target);
    }
    const response = await recordingFetch(target, { redirect: 'manual' });
    check(response.status === 302 || response.status === 303, `no redirect from ${target}`, response.status);
    target = new URL(response.headers.get('location'), target).toString();
  }
  throw new StepFailure(`too many redirects from ${start}`);
}

const APP = 'http://localhost:3000/cb';

async function pkceOauthFlow() {
  const idToken = input('E2E_ID_TOKEN');
  const nonce = input('E2E_NONCE');
  const supabase = pkceClient('portcullis-e2e-oauth', input('E2E_STORAGE'));
  await step('signInWithOAuth (pkce) → provider → callback → exchangeCodeForSession', async () => {
    const { data, error } = await supabase.auth.signInWithOAuth({ provider: 'keycloak',
      options: { redirectTo: APP, skipBrowserRedirect: true } });
    noError(error, 'signInWithOAuth');
    check(data.url.includes('code_challenge='), 'no PKCE challenge in the authorize URL', data.url);
    const back = await followToApp(data.url, APP);
    const code = back.searchParams.get('code');
    check(code, 'no code in the redirect to the app', back.toString());
    const exchanged = await supabase.auth.exchangeCodeForSession(code);
    noError(exchanged.error, 'exchangeCodeForSession');
    check(exchanged.data.session.provider_token, 'no provider_token', exchanged.data.session);
    equal(exchanged.data.user.app_metadata.provider, 'keycloak', 'app_metadata.provider');
    const again = await supabase.auth.exchangeCodeForSession(code);
    check(again.error, 'the code was exchanged twice');
    return { provider: exchanged.data.user.app_metadata.provider };
  });
  await step('linkIdentity adds a second provider identity; unlinkIdentity removes it', async () => {
    const linked = await supabase.auth.linkIdentity({ provider: 'keycloak',
      options: { redirectTo: APP, skipBrowserRedirect: true } });
    noError(linked.error, 'linkIdentity');
    const back = await followToApp(linked.data.url, APP);
    const exchanged = await supabase.auth.exchangeCodeForSession(back.searchParams.get('code'));
    noError(exchanged.error, 'exchangeCodeForSession after linking');
    const identities = await supabase.auth.getUserIdentities();
    noError(identities.error, 'getUserIdentities');
    equal(identities.data.identities.length, 2, 'identities after linking');
    const unlinked = await supabase.auth.unlinkIdentity(identities.data.identities[1]);
    noError(unlinked.error, 'unlinkIdentity');
    const after = await supabase.auth.getUserIdentities();
    equal(after.data.identities.length, 1, 'identities after unlinking');
    const last = await supabase.auth.unlinkIdentity(after.data.identities[0]);
    equal(last.error && last.error.code, 'single_identity_not_deletable', 'unlinking the last identity');
  });
  await step('signInWithIdToken with the raw nonce', async () => {
    const other = client('portcullis-e2e-idtoken');
    const wrong = await other.auth.signInWithIdToken({ provider: 'keycloak', token: idToken, nonce: 'not-it' });
    check(wrong.error, 'a wrong nonce signed in');
    equal(wrong.error.code, 'bad_id_token', 'wrong nonce: error.code');
    const { data, error } = await other.auth.signInWithIdToken({ provider: 'keycloak', token: idToken, nonce });
    noError(error, 'signInWithIdToken');
    check(data.session && data.session.access_token, 'no session', data);
    equal(data.user.app_metadata.provider, 'keycloak', 'app_metadata.provider');
  });
}

// PKCE mail flows, first half: a magic link and a recovery mail requested with code challenges.
async function pkceMailRequestFlow() {
  const supabase = pkceClient('portcullis-e2e-mail', input('E2E_STORAGE'));
  const recovery = pkceClient('portcullis-e2e-reset', input('E2E_RECOVERY_STORAGE'));
  await step('signInWithOtp and resetPasswordForEmail send code challenges', async () => {
    const otp = await supabase.auth.signInWithOtp({ email: input('E2E_EMAIL'), options: { emailRedirectTo: APP } });
    noError(otp.error, 'signInWithOtp');
    const reset = await recovery.auth.resetPasswordForEmail(input('E2E_RECOVERY_EMAIL'), { redirectTo: APP });
    noError(reset.error, 'resetPasswordForEmail');
  });
}

// Second half: the codes of the links' redirects (E2E_CODE, E2E_RECOVERY_CODE) exchanged with the stored verifiers.
async function pkceMailCompleteFlow() {
  const supabase = pkceClient('portcullis-e2e-mail', input('E2E_STORAGE'));
  const recovery = pkceClient('portcullis-e2e-reset', input('E2E_RECOVERY_STORAGE'));
  const events = [];
  recovery.auth.onAuthStateChange((event) => events.push(event));
  await step('exchangeCodeForSession after the magic link', async () => {
    const { data, error } = await supabase.auth.exchangeCodeForSession(input('E2E_CODE'));
    noError(error, 'exchangeCodeForSession');
    equal(data.user.email, input('E2E_EMAIL'), 'user.email');
  });
  await step('exchangeCodeForSession after the recovery link emits PASSWORD_RECOVERY', async () => {
    const { data, error } = await recovery.auth.exchangeCodeForSession(input('E2E_RECOVERY_CODE'));
    noError(error, 'exchangeCodeForSession (recovery)');
    equal(data.user.email, input('E2E_RECOVERY_EMAIL'), 'user.email');
    check(events.includes('PASSWORD_RECOVERY'), 'no PASSWORD_RECOVERY event', events);
    const updated = await recovery.auth.updateUser({ password: 'after-Pkce-Reset-3' });
    noError(updated.error, 'updateUser password');
  });
}

async function adminLinksFlow() {
  const admin = createClient(url, input('E2E_SERVICE_KEY'), {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: recordingFetch },
    realtime: { transport: WebSocket },
  }).auth.admin;
  const email = `e2e-link-${randomUUID()}@example.com`;
  await step('admin.generateLink signup → verifyOtp with the hashed token', async () => {
    const { data, error } = await admin.generateLink({ type: 'signup', email, password: 'link-Password-1' });
    noError(error, 'generateLink');
    equal(data.user.email, email, 'user.email');
    check(data.properties.action_link.includes('/auth/v1/verify?token='), 'action_link', data.properties);
    equal(data.properties.verification_type, 'signup', 'verification_type');
    check(/^[0-9]{6}$/.test(data.properties.email_otp), 'email_otp', data.properties);
    const verified = await client('portcullis-e2e-links').auth.verifyOtp({ token_hash: data.properties.hashed_token,
      type: 'signup' });
    noError(verified.error, 'verifyOtp token_hash');
    equal(verified.data.user.email, email, 'user.email');
  });
  await step('admin.generateLink recovery and inviteUserByEmail', async () => {
    const recovery = await admin.generateLink({ type: 'recovery', email });
    noError(recovery.error, 'generateLink recovery');
    equal(recovery.data.properties.verification_type, 'recovery', 'verification_type');
    const invited = await admin.inviteUserByEmail(`e2e-invite-${randomUUID()}@example.com`);
    noError(invited.error, 'inviteUserByEmail');
    check(invited.data.user && invited.data.user.id, 'no invited user', invited.data);
  });
}

const flows = {
  'pkce-oauth': pkceOauthFlow,
  'pkce-mail-request': pkceMailRequestFlow,
  'pkce-mail-complete': pkceMailCompleteFlow,
  'admin-links': adminLinksFlow,
  'hook-claims': hookClaimsFlow,
  core: coreFlow,
  admin: adminFlow,
  'recovery-request': recoveryRequestFlow,
  'recovery-complete': recoveryCompleteFlow,
  'signup-request': signupRequestFlow,
  'signup-complete': signupCompleteFlow,
  mfa: mfaFlow,
  anonymous: anonymousFlow,
  'reauth-request': reauthRequestFlow,
  'reauth-complete': reauthCompleteFlow,
};
const flow = process.env.E2E_FLOW || 'core';
if (!flows[flow]) {
  console.error(`FAIL: unknown E2E_FLOW ${flow}; one of ${Object.keys(flows).join(', ')}`);
  process.exit(2);
}
await flows[flow]();

console.log(JSON.stringify({
  ok: true,
  flow,
  client: `@supabase/supabase-js@${clientVersion}`,
  node: process.version,
  server: url,
  steps,
  requests: exchanges.length,
}, null, 2));
process.exit(0);
