// The same small web app as examples/node-app, built on @workos/authkit-session
// (the framework-agnostic core of WorkOS's AuthKit integrations) with the
// WorkOS Node SDK v10, unchanged: authkit-session's own apiHostname /
// apiHttps / apiPort settings point it at Portico. No framework, just
// node:http and a ten-line storage adapter.
//
//   PORTICO_URL        where Portico runs          [http://127.0.0.1:8080]
//   PORTICO_API_KEY    sk_test_…                   (printed by `portico serve`)
//   PORTICO_CLIENT_ID  client_…                    (printed by `portico serve`)
//   APP_URL            where this app is reached   [http://127.0.0.1:3918]
//   COOKIE_PASSWORD    at least 32 characters; seals the session cookie
//                      [a random one per start, with a warning]
//
// Routes: GET /  /login  /signup  /callback  /logout
//         POST /switch-organization  /refresh

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { CookieSessionStorage, configure, createAuthService, validateConfig } from '@workos/authkit-session';
import {
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
} from '../node-app/web.mjs';

// ---- configuration ----------------------------------------------------------

const porticoUrl = parseUrl('PORTICO_URL', process.env.PORTICO_URL || 'http://127.0.0.1:8080');
const appUrl = parseUrl('APP_URL', process.env.APP_URL || 'http://127.0.0.1:3918');
const APP_ORIGIN = appUrl.origin;
const CLIENT_ID = required('PORTICO_CLIENT_ID');

let cookiePassword = process.env.COOKIE_PASSWORD || '';
if (!cookiePassword) {
  cookiePassword = randomBytes(32).toString('base64url');
  console.warn('warning: COOKIE_PASSWORD is not set; using a random one, so sessions end when the app restarts');
}

// authkit-session reads WORKOS_* variables first, then this configuration.
configure({
  clientId: CLIENT_ID,
  apiKey: required('PORTICO_API_KEY'),
  redirectUri: `${APP_ORIGIN}/callback`,
  cookiePassword,
  // Where the WorkOS API is: Portico.
  apiHostname: porticoUrl.hostname,
  apiHttps: porticoUrl.protocol === 'https:',
  ...(porticoUrl.port ? { apiPort: Number(porticoUrl.port) } : {}),
  // Its own name, so it never meets examples/node-app's cookie on one host.
  cookieName: 'portico-authkit-example-session',
});
try {
  validateConfig();
} catch (err) {
  fail(err.message);
}

/** The storage adapter: read cookies from node:http requests; writes come back as headers. */
class NodeHttpStorage extends CookieSessionStorage {
  async getCookie(req, name) {
    return readCookies(req)[name] ?? null;
  }
}

const authService = createAuthService({ sessionStorageFactory: (config) => new NodeHttpStorage(config) });
const workos = () => authService.getWorkOS();

const { signedOutPage, signedInPage, errorPage } = views({
  appName: 'Portico example app',
  library: '@workos/authkit-session 0.7 with @workos-inc/node v10',
});

/** Every Set-Cookie in authkit-session's header bags, as separate header values. */
function setCookies(...bags) {
  const out = [];
  for (const bag of bags) {
    for (const [key, value] of Object.entries(bag?.headers ?? {})) {
      if (key.toLowerCase() === 'set-cookie') out.push(...(Array.isArray(value) ? value : [value]));
    }
  }
  return out;
}

const hasSessionCookie = (req) => Boolean(readCookies(req)['portico-authkit-example-session']);

// ---- data -------------------------------------------------------------------

/** The user's active memberships with organization names, sorted by name. */
async function loadMemberships(userId) {
  try {
    const { data } = await workos().userManagement.listOrganizationMemberships({ userId, statuses: ['active'], limit: 100 });
    const list = await Promise.all(
      data.map(async (m) => {
        let organizationName = m.organizationName;
        if (!organizationName) {
          try {
            organizationName = (await workos().organizations.getOrganization(m.organizationId)).name;
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
  // withAuth verifies the access token against Portico's JWKS and, when it has
  // expired, refreshes it; the refreshed session must be written back.
  const { auth, refreshedSessionData } = await authService.withAuth(req);
  const notice = NOTICES[url.searchParams.get('notice')];
  if (!auth.user) {
    if (hasSessionCookie(req)) {
      const cleared = setCookies(await authService.clearSession(undefined));
      return send(res, 200, signedOutPage('Your session has ended; please sign in again.'), cleared);
    }
    return send(res, 200, signedOutPage(notice));
  }
  const saved = refreshedSessionData ? setCookies(await authService.saveSession(undefined, refreshedSessionData)) : [];
  const memberships = await loadMemberships(auth.user.id);
  return send(res, 200, signedInPage(auth, memberships, notice), saved);
}

/** /login and /signup: authkit-session writes the PKCE verifier cookie and builds the URL. */
async function startSignIn(res, screen) {
  const result =
    screen === 'sign-up'
      ? await authService.createSignUp(undefined, { returnPathname: '/' })
      : await authService.createSignIn(undefined, { returnPathname: '/' });
  return redirect(res, result.url, setCookies(result));
}

async function callback(req, res, url) {
  const state = url.searchParams.get('state') || undefined;
  const clearVerifier = async () =>
    state ? setCookies(await authService.clearPendingVerifier(undefined, { state }).catch(() => undefined)) : [];
  const failed = async (message, detail) =>
    send(res, 400, errorPage('Sign-in did not complete', message, detail), await clearVerifier());

  const error = url.searchParams.get('error');
  if (error) return failed(url.searchParams.get('error_description') || 'Portico reported an error.', error);
  const code = url.searchParams.get('code');
  if (!code) return failed('The callback carried no authorization code.');
  let result;
  try {
    result = await authService.handleCallback(req, undefined, { code, state });
  } catch (err) {
    const message =
      err?.name === 'PKCECookieMissingError' || err?.name === 'OAuthStateMismatchError'
        ? 'This sign-in was not started in this browser, or took longer than 10 minutes. Please start again.'
        : 'Portico refused the authorization code.';
    return failed(message, describe(err));
  }
  return redirect(res, result.returnPathname || '/', setCookies(result));
}

/** POST /refresh and POST /switch-organization. */
async function refresh(req, res, organizationId) {
  const what = organizationId ? 'Could not switch organization' : 'Could not refresh the session';
  let session;
  try {
    session = await authService.getSession(req);
  } catch {
    session = null;
  }
  if (!session) return redirect(res, '/', setCookies(await authService.clearSession(undefined)));
  let result;
  try {
    result = organizationId
      ? await authService.switchOrganization(session, organizationId)
      : await authService.refreshSession(session);
  } catch (err) {
    return send(res, 400, errorPage(what, 'Portico refused the request.', describe(err)));
  }
  const saved = setCookies(await authService.saveSession(undefined, result.encryptedSession));
  return redirect(res, `/?notice=${organizationId ? 'switched' : 'refreshed'}`, saved);
}

/** GET /logout: end the session at Portico, which sends the browser back here. */
async function logout(req, res) {
  const { auth } = await authService.withAuth(req);
  if (!auth.user) {
    return redirect(res, '/?notice=signed-out', setCookies(await authService.clearSession(undefined)));
  }
  const result = await authService.signOut(auth.sessionId, { returnTo: `${APP_ORIGIN}/` });
  return redirect(res, result.logoutUrl, setCookies(result));
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
const port = appUrl.port ? Number(appUrl.port) : appUrl.protocol === 'https:' ? 443 : 80;
server.listen(port, appUrl.hostname.replace(/^\[|\]$/g, ''), () => {
  console.log(`Portico example app (authkit-session) on ${APP_ORIGIN}/ (Portico at ${porticoUrl.origin}, client ${CLIENT_ID})`);
  console.log(`  redirect URI to allow: ${APP_ORIGIN}/callback`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
