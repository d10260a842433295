// A small HTTP driver for Portico's hosted sign-in pages (no browser): it
// opens an authorization URL, keeps the cookies the pages set, posts their
// forms with the CSRF token, and follows the flow to the redirect back to the
// app, where the authorization code is.
//
//   const flow = await openAuthorizationUrl(url);     // 302 -> /sign-in
//   const done = await signInWithPassword(flow, { email, password });
//   done.params.get('code'), done.params.get('state')

import assert from 'node:assert/strict';
import { PORTICO_URL } from './harness.mjs';

/** The bootstrap client's redirect URI (allowed for authorization codes). */
export const REDIRECT_URI = 'http://localhost:3000/callback';

/** The cookies one browser holds for the server (name -> value). */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
    /** The hidden `flow` field of the last hosted page seen. */
    this.flowTag = undefined;
    /** The User-Agent header this browser sends (undefined: fetch's own). */
    this.userAgent = undefined;
    /**
     * The origin the browser is on: where relative targets (a page's
     * redirects) go. Passkeys need PORTICO_PASSKEY_URL (see `onOrigin`).
     */
    this.origin = PORTICO_URL;
  }

  /** Keep the cookies a response sets (Max-Age=0 deletes). */
  store(headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name) {
    return this.cookies.get(name);
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * One request as a browser would make it (same-origin, cookies from `jar`),
 * without following redirects. `form` posts application/x-www-form-urlencoded;
 * `headers` are added to (or replace) the browser's own.
 */
export async function browse(jar, target, { method = 'GET', form, headers: extra = {} } = {}) {
  const url = new URL(target, jar.origin);
  const headers = { Accept: 'text/html' };
  if (jar.userAgent !== undefined) headers['User-Agent'] = jar.userAgent;
  const cookie = jar.header();
  if (cookie) headers.Cookie = cookie;
  Object.assign(headers, extra);
  const init = { method, headers, redirect: 'manual' };
  if (form !== undefined) {
    init.method = 'POST';
    // Forms carry the hidden `flow` field of the page they came from, as a browser's would.
    init.body = new URLSearchParams(jar.flowTag !== undefined && !('flow' in form) ? { flow: jar.flowTag, ...form } : form);
  }
  const res = await fetch(url, init);
  jar.store(res.headers);
  const text = await res.text();
  const flowTag = hiddenInput(text, 'flow');
  if (flowTag !== undefined) jar.flowTag = flowTag;
  return { status: res.status, location: res.headers.get('location'), headers: res.headers, text };
}

/** `url` (e.g. one the API made on PORTICO_URL) on another origin, path and query kept. */
export function onOrigin(url, origin) {
  const moved = new URL(url);
  const target = new URL(origin);
  moved.protocol = target.protocol;
  moved.host = target.host;
  return moved.href;
}

/** The value of the hidden input `name` in an HTML page (undefined if absent). */
export function hiddenInput(html, name) {
  for (const tag of html.match(/<input\b[^>]*>/gi) || []) {
    if (!new RegExp(`\\bname="${name}"`).test(tag)) continue;
    const value = tag.match(/\bvalue="([^"]*)"/);
    return value ? value[1] : '';
  }
  return undefined;
}

/** Whether `location` is the app's redirect URI (an absolute URL back to it). */
function isRedirectBack(location, redirectUri) {
  return typeof location === 'string' && location.startsWith(`${redirectUri}?`);
}

/**
 * GET an authorization URL: requires the 302 into the hosted pages and returns
 * `{ jar, status, location, response }`. The flow cookie is in `jar`.
 */
export async function openAuthorizationUrl(authorizationUrl) {
  const jar = new CookieJar();
  const response = await browse(jar, authorizationUrl);
  return { jar, status: response.status, location: response.location, response };
}

/** GET a hosted page and return `{ page, csrf }` (the form's CSRF token). */
export async function formPage(jar, path) {
  const page = await browse(jar, path);
  assert.equal(page.status, 200, `GET ${path}: ${page.status} ${page.text.slice(0, 300)}`);
  const csrf = hiddenInput(page.text, 'csrf_token');
  assert.ok(csrf, `GET ${path} has a csrf_token field`);
  assert.equal(jar.get('portico_csrf'), csrf, 'the csrf_token field equals the portico_csrf cookie');
  return { page, csrf };
}

/**
 * Sign in on the hosted pages with a password, starting from the 302 that
 * `openAuthorizationUrl` returned: email page, password page, then (when the
 * server asks) the organization choice (`organizationId`) or email
 * verification (`verificationCode`: an async function returning the code).
 * Returns `{ location, url, params, steps }` where `url` is the redirect back
 * to the app and `params` its query; `steps` lists the pages passed through.
 * With `stopAt` ('/verify-email' or '/choose-organization') it returns as soon
 * as the flow gets there, with `{ stopped, jar, csrf, steps }`.
 */
export async function signInWithPassword(
  flow,
  { email, password, organizationId, verificationCode, stopAt, redirectUri = REDIRECT_URI },
) {
  const { jar } = flow;
  assert.equal(flow.status, 302, `authorize answered ${flow.status}: ${flow.response.text.slice(0, 300)}`);
  assert.equal(flow.location, '/sign-in', 'authorize sends the browser to the sign-in page');
  assert.ok(jar.get('portico_flow'), 'authorize sets the portico_flow cookie');
  const steps = [];

  const { csrf } = await formPage(jar, '/sign-in');
  const afterEmail = await browse(jar, '/sign-in', { form: { csrf_token: csrf, email } });
  assert.equal(afterEmail.status, 303, `POST /sign-in: ${afterEmail.status} ${afterEmail.text.slice(0, 300)}`);
  assert.equal(afterEmail.location, '/sign-in/password');

  await formPage(jar, '/sign-in/password');
  let next = await browse(jar, '/sign-in/password', { form: { csrf_token: csrf, password } });
  assert.equal(next.status, 303, `POST /sign-in/password: ${next.status} ${next.text.slice(0, 300)}`);

  for (let hops = 0; hops < 4; hops++) {
    const location = next.location;
    if (isRedirectBack(location, redirectUri)) {
      const url = new URL(location);
      return { location, url, params: url.searchParams, steps, jar };
    }
    steps.push(location);
    if (location === stopAt) return { stopped: location, jar, csrf, steps };
    if (location === '/verify-email') {
      assert.ok(verificationCode, 'the flow asks for email verification but no verificationCode was given');
      await formPage(jar, '/verify-email');
      const code = await verificationCode();
      next = await browse(jar, '/verify-email', { form: { csrf_token: csrf, code } });
    } else if (location === '/choose-organization') {
      assert.ok(organizationId, 'the flow asks for an organization but no organizationId was given');
      const { page } = await formPage(jar, '/choose-organization');
      assert.ok(page.text.includes(`value="${organizationId}"`), `the choice lists ${organizationId}`);
      next = await browse(jar, '/choose-organization', { form: { csrf_token: csrf, organization_id: organizationId } });
    } else {
      assert.fail(`unexpected redirect to ${location}`);
    }
    assert.equal(next.status, 303, `POST ${location}: ${next.status} ${next.text.slice(0, 300)}`);
  }
  assert.fail('the hosted flow did not come back to the redirect URI');
}

/**
 * Ask the current hosted page's flow for a passkey ceremony, as the pages'
 * script does (`fetch` from the page, hence Sec-Fetch-Site: same-origin):
 * `purpose` is sign_in, second_factor, register or confirm. The answer is JSON
 * (the options, or `{error, message}`); parse `text`.
 */
export async function passkeyOptions(jar, csrf, purpose) {
  return browse(jar, '/passkeys/options', {
    form: { csrf_token: csrf, purpose },
    headers: { Accept: 'application/json', 'Sec-Fetch-Site': 'same-origin' },
  });
}
