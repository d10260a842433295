// A small web app that signs people in with Portico's hosted pages through the
// official WorkOS Node SDK (@workos-inc/node v11), unchanged: the SDK is only
// pointed at Portico's host and port. No framework, just node:http.
//
//   PORTICO_URL        where Portico runs          [http://127.0.0.1:8080]
//   PORTICO_API_KEY    sk_test_…                   (printed by `portico serve`)
//   PORTICO_CLIENT_ID  client_…                    (printed by `portico serve`)
//   APP_URL            where this app is reached   [http://localhost:3000]
//   COOKIE_PASSWORD    at least 32 characters; seals the session cookie
//                      [a random one per start, with a warning]
//
// Routes: GET /  /login  /signup  /callback  /logout
//         POST /switch-organization  /refresh

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { WorkOS } from '@workos-inc/node';
import {
  clearCookie as clearCookieHeader,
  cookie as cookieHeader,
  describe,
  fail,
  parseUrl,
  required,
  readCookies,
  readForm,
  redirect,
  sameOrigin,
  send,
  sendJson,
  views,
} from './web.mjs';

// ---- configuration ----------------------------------------------------------

const porticoUrl = parseUrl('PORTICO_URL', process.env.PORTICO_URL || 'http://127.0.0.1:8080');
const appUrl = parseUrl('APP_URL', process.env.APP_URL || 'http://localhost:3000');
const APP_ORIGIN = appUrl.origin;
const API_KEY = required('PORTICO_API_KEY');
const CLIENT_ID = required('PORTICO_CLIENT_ID');
const REDIRECT_URI = `${APP_ORIGIN}/callback`;
const SECURE = appUrl.protocol === 'https:';

let COOKIE_PASSWORD = process.env.COOKIE_PASSWORD || '';
if (!COOKIE_PASSWORD) {
  COOKIE_PASSWORD = randomBytes(32).toString('base64url');
  console.warn('warning: COOKIE_PASSWORD is not set; using a random one, so sessions end when the app restarts');
} else if (COOKIE_PASSWORD.length < 32) {
  fail('COOKIE_PASSWORD must be at least 32 characters (e.g. `openssl rand -base64 32`)');
}

const SESSION_COOKIE = 'portico-example-session';
// State and PKCE verifier between /login and /callback (encrypted, 10 minutes).
const FLOW_COOKIE = 'portico-example-auth';
const FLOW_MAX_AGE_SECONDS = 600;

const cookie = (name, value, options = {}) => cookieHeader(name, value, { ...options, secure: SECURE });
const clearCookie = (name) => clearCookieHeader(name, { secure: SECURE });
const { signedOutPage, signedInPage, errorPage } = views({
  appName: 'Portico example app',
  library: '@workos-inc/node v11 with sealed sessions',
});

// The SDK, unchanged, pointed at Portico.
const workos = new WorkOS(API_KEY, {
  apiHostname: porticoUrl.hostname,
  port: porticoUrl.port ? Number(porticoUrl.port) : undefined,
  https: porticoUrl.protocol === 'https:',
  clientId: CLIENT_ID,
});

// ---- the sign-in flow cookie ---------------------------------------------------

// Sealed with AES-256-GCM under a key derived from COOKIE_PASSWORD, so the
// PKCE verifier in it is neither readable nor forgeable by the browser.
const flowKey = Buffer.from(hkdfSync('sha256', COOKIE_PASSWORD, 'portico-example', 'auth-flow-cookie', 32));

function sealFlow(data) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', flowKey, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function unsealFlow(text) {
  try {
    const raw = Buffer.from(text, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', flowKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const data = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'));
    return typeof data.expires === 'number' && data.expires >= Date.now() ? data : undefined;
  } catch {
    return undefined;
  }
}

function sameString(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---- session ----------------------------------------------------------------

const loadSession = (sessionData) =>
  workos.userManagement.loadSealedSession({ sessionData, cookiePassword: COOKIE_PASSWORD });

/**
 * The signed-in session from the cookie, refreshed when its access token has
 * expired. Returns `{ auth, setCookies }`; `auth` is undefined when nobody is
 * signed in (`ended` tells whether a cookie was there).
 */
async function currentSession(req) {
  const sessionData = readCookies(req)[SESSION_COOKIE];
  if (!sessionData) return { setCookies: [] };
  const session = loadSession(sessionData);
  const auth = await session.authenticate();
  if (auth.authenticated) return { auth, setCookies: [] };
  // An expired access token fails verification (`invalid_jwt`); the refresh
  // token in the same cookie may still be good.
  if (auth.reason === 'invalid_jwt') {
    const refreshed = await session.refresh();
    if (refreshed.authenticated) {
      const fresh = await loadSession(refreshed.sealedSession).authenticate();
      if (fresh.authenticated) return { auth: fresh, setCookies: [cookie(SESSION_COOKIE, refreshed.sealedSession)] };
    }
  }
  return { setCookies: [clearCookie(SESSION_COOKIE)], ended: true };
}

/** The user's active memberships with organization names, sorted by name. */
async function loadMemberships(userId) {
  try {
    const { data } = await workos.userManagement.listOrganizationMemberships({ userId, statuses: ['active'], limit: 100 });
    const list = await Promise.all(
      data.map(async (m) => {
        let organizationName = m.organizationName;
        if (!organizationName) {
          try {
            organizationName = (await workos.organizations.getOrganization(m.organizationId)).name;
          } catch {
            organizationName = m.organizationId;
          }
        }
        const roleSlugs = (m.roles?.length ? m.roles : m.role ? [m.role] : []).map((r) => r.slug);
        return { organizationId: m.organizationId, organizationName, roleSlugs };
      }),
    );
    list.sort((a, b) => a.organizationName.localeCompare(b.organizationName));
    return { list };
  } catch (err) {
    return { list: [], error: describe(err) };
  }
}

// ---- routes -----------------------------------------------------------------

const NOTICES = {
  refreshed: 'Session refreshed: Portico issued a new access token and refresh token.',
  switched: 'Switched organization.',
  'signed-out': 'You are signed out.',
};

async function home(req, res, url) {
  const { auth, setCookies, ended } = await currentSession(req);
  const notice = NOTICES[url.searchParams.get('notice')];
  if (!auth) {
    return send(res, 200, signedOutPage(ended ? 'Your session has ended; please sign in again.' : notice), setCookies);
  }
  const memberships = await loadMemberships(auth.user.id);
  return send(res, 200, signedInPage(auth, memberships, notice), setCookies);
}

/** /login and /signup: to Portico's hosted pages, with PKCE and a state bound to this browser. */
async function startSignIn(res, screenHint) {
  const { url, state, codeVerifier } = await workos.userManagement.getAuthorizationUrlWithPKCE({
    provider: 'authkit',
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    screenHint,
  });
  const flow = sealFlow({ state, codeVerifier, expires: Date.now() + FLOW_MAX_AGE_SECONDS * 1000 });
  return redirect(res, url, [cookie(FLOW_COOKIE, flow, { maxAge: FLOW_MAX_AGE_SECONDS })]);
}

async function callback(req, res, url) {
  const cleared = [clearCookie(FLOW_COOKIE)];
  const failed = (status, message, detail) =>
    send(res, status, errorPage('Sign-in did not complete', message, detail), cleared);

  const error = url.searchParams.get('error');
  if (error) return failed(400, url.searchParams.get('error_description') || 'Portico reported an error.', error);
  const code = url.searchParams.get('code');
  if (!code) return failed(400, 'The callback carried no authorization code.');
  const flow = unsealFlow(readCookies(req)[FLOW_COOKIE] || '');
  if (!flow) return failed(400, 'This sign-in was not started in this browser, or took longer than 10 minutes. Please start again.');
  const state = url.searchParams.get('state');
  if (!state || !sameString(state, flow.state)) return failed(400, 'The state parameter does not match this browser.');

  let result;
  try {
    result = await workos.userManagement.authenticateWithCode({
      clientId: CLIENT_ID,
      code,
      codeVerifier: flow.codeVerifier,
      session: { sealSession: true, cookiePassword: COOKIE_PASSWORD },
    });
  } catch (err) {
    return failed(400, 'Portico refused the authorization code.', describe(err));
  }
  return redirect(res, '/', [...cleared, cookie(SESSION_COOKIE, result.sealedSession)]);
}

/** POST /refresh and POST /switch-organization: a refresh-token grant, re-sealed into the cookie. */
async function refresh(req, res, organizationId) {
  const sessionData = readCookies(req)[SESSION_COOKIE];
  if (!sessionData) return redirect(res, '/');
  const what = organizationId ? 'Could not switch organization' : 'Could not refresh the session';
  let result;
  try {
    result = await loadSession(sessionData).refresh(organizationId ? { organizationId } : {});
  } catch (err) {
    return send(res, 400, errorPage(what, 'Portico refused the request.', describe(err)));
  }
  if (!result.authenticated) {
    if (result.retryable) return send(res, 503, errorPage(what, 'Portico asked to try again later.', result.reason));
    return send(res, 401, errorPage(what, 'The session has ended; please sign in again.', result.reason), [
      clearCookie(SESSION_COOKIE),
    ]);
  }
  return redirect(res, `/?notice=${organizationId ? 'switched' : 'refreshed'}`, [cookie(SESSION_COOKIE, result.sealedSession)]);
}

/** GET /logout: end the session at Portico, which sends the browser back here. */
async function logout(req, res) {
  const sessionData = readCookies(req)[SESSION_COOKIE];
  const cleared = [clearCookie(SESSION_COOKIE)];
  if (!sessionData) return redirect(res, '/?notice=signed-out', cleared);
  const returnTo = `${APP_ORIGIN}/`;
  let target;
  try {
    target = await loadSession(sessionData).getLogoutUrl({ returnTo });
  } catch {
    // The access token expired, so its session id cannot be trusted: refresh
    // first, then end the (same) session.
    try {
      const refreshed = await loadSession(sessionData).refresh();
      if (refreshed.authenticated) target = await loadSession(refreshed.sealedSession).getLogoutUrl({ returnTo });
    } catch {
      target = undefined;
    }
  }
  return redirect(res, target || '/?notice=signed-out', cleared);
}

async function handle(req, res) {
  const url = new URL(req.url, APP_ORIGIN);
  switch (`${req.method} ${url.pathname}`) {
    case 'GET /':
      return home(req, res, url);
    case 'GET /login':
      return startSignIn(res, 'sign-in');
    case 'GET /signup':
      return startSignIn(res, 'sign-up');
    case 'GET /callback':
      return callback(req, res, url);
    case 'POST /switch-organization': {
      if (!sameOrigin(req, APP_ORIGIN)) return send(res, 403, errorPage('Forbidden', 'Cross-site request refused.'));
      const organizationId = (await readForm(req)).get('organization_id');
      if (!organizationId) return send(res, 400, errorPage('Choose an organization', 'No organization was chosen.'));
      return refresh(req, res, organizationId);
    }
    case 'POST /refresh':
      if (!sameOrigin(req, APP_ORIGIN)) return send(res, 403, errorPage('Forbidden', 'Cross-site request refused.'));
      return refresh(req, res);
    case 'GET /logout':
      return logout(req, res);
    case 'GET /health':
      return sendJson(res, 200, { status: 'ok' });
    default:
      return send(res, 404, errorPage('Not found', `Nothing at ${url.pathname}.`));
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(`${req.method} ${req.url}: ${describe(err)}`);
    if (res.headersSent) return res.destroy();
    send(res, err.statusCode || 500, errorPage('Something went wrong', 'The app could not finish this request.', describe(err)));
  });
});

server.on('error', (err) => fail(`cannot listen on ${APP_ORIGIN}: ${err.message}`));
const port = appUrl.port ? Number(appUrl.port) : SECURE ? 443 : 80;
server.listen(port, appUrl.hostname.replace(/^\[|\]$/g, ''), () => {
  console.log(`Portico example app on ${APP_ORIGIN}/ (Portico at ${porticoUrl.origin}, client ${CLIENT_ID})`);
  console.log(`  redirect URI to allow: ${REDIRECT_URI}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
