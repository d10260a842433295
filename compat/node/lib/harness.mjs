// Shared helpers for the Node SDK compatibility tests.
//
// Every test file imports from here. The server under test is described by
// three environment variables (set by compat/run.sh):
//   PORTICO_URL        e.g. http://127.0.0.1:8080
//   PORTICO_API_KEY    sk_test_...
//   PORTICO_CLIENT_ID  client_...

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as workosV10 from 'workos-v10';
import * as workosV11 from 'workos-v11';

export const PORTICO_URL = (process.env.PORTICO_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const API_KEY = process.env.PORTICO_API_KEY || 'sk_test_missing';
export const CLIENT_ID = process.env.PORTICO_CLIENT_ID || 'client_missing';

const url = new URL(PORTICO_URL);

/**
 * The SDK majors under test. Node v10.14 and v11 expose the same surface for
 * everything exercised here (including `workos.authorization.*`), so every
 * test body is shared and parameterised by the module.
 */
export const SDKS = [
  { label: 'node-v11', mod: workosV11, version: readVersion(workosV11) },
  { label: 'node-v10', mod: workosV10, version: readVersion(workosV10) },
];

function readVersion(mod) {
  try {
    return new mod.WorkOS('sk_test_version_probe', { https: false, apiHostname: '127.0.0.1' }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Build an SDK client pointed at the Portico server.
 * Retries are cut to one (the SDK still attaches its automatic
 * Idempotency-Key to POSTs, as in production) so failures surface quickly.
 */
export function client(sdk, { apiKey = API_KEY, maxRetries = 1 } = {}) {
  return new sdk.mod.WorkOS(apiKey, {
    apiHostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    https: url.protocol === 'https:',
    clientId: CLIENT_ID,
    maxRetries,
    timeout: 30_000,
  });
}

/**
 * A public client (no API key, only the client id), as a browser, mobile or
 * CLI app would build it: the SDK then sends no `Authorization` header and no
 * `client_secret`.
 */
export function publicClient(sdk) {
  return new sdk.mod.WorkOS({
    clientId: CLIENT_ID,
    apiHostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    https: url.protocol === 'https:',
    maxRetries: 1,
    timeout: 30_000,
  });
}

/** Short random token, unique per call and per run. */
export function uid(bytes = 5) {
  return `${Date.now().toString(36)}${randomBytes(bytes).toString('hex')}`;
}

/** A unique, lower-case email address (`tag` keeps failures readable). */
export function uniqueEmail(tag = 'user') {
  return `${tag}-${uid()}@compat.example.com`;
}

/** A unique domain name that no other test (or earlier run) uses. */
export function uniqueDomain(tag = 'org') {
  return `${tag}-${uid()}.compat-example.com`;
}

/** `<prefix>_<26-char Crockford ULID>` */
export function idPattern(prefix) {
  return new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`);
}

/** A bare ULID (JWT `jti`). */
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** ISO-8601 UTC with exactly millisecond precision. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function assertTimestamps(obj, what = 'object') {
  assert.match(String(obj.createdAt), ISO_MS, `${what}.createdAt format`);
  assert.match(String(obj.updatedAt), ISO_MS, `${what}.updatedAt format`);
}

/** Names of the SDK's own exception classes, in the order we look for them. */
const EXCEPTION_CLASSES = [
  'BadRequestException',
  'UnauthorizedException',
  'NotFoundException',
  'ConflictException',
  'UnprocessableEntityException',
  'RateLimitExceededException',
  'AuthenticationException',
  'OauthException',
  'GenericServerException',
];

/** Which SDK exception class `err` is (or `undefined` if none). */
export function sdkExceptionName(sdk, err) {
  return EXCEPTION_CLASSES.find((name) => sdk.mod[name] && err instanceof sdk.mod[name]);
}

function describeError(err) {
  if (!err || typeof err !== 'object') return String(err);
  const parts = [`${err.name || err.constructor?.name}: ${err.message}`];
  if (err.status !== undefined) parts.push(`status=${err.status}`);
  if (err.code !== undefined) parts.push(`code=${err.code}`);
  if (err.rawData !== undefined) parts.push(`rawData=${JSON.stringify(err.rawData)}`);
  if (err.errors !== undefined) parts.push(`errors=${JSON.stringify(err.errors)}`);
  return parts.join(' ');
}

/**
 * Await `promise`, require it to reject with `sdk.mod[className]` carrying
 * HTTP status `status`, and return the error.
 */
export async function expectSdkError(sdk, promise, className, status) {
  let err;
  try {
    const value = await promise;
    assert.fail(`expected ${className} (${status}) but the call resolved with ${JSON.stringify(value)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  const Cls = sdk.mod[className];
  assert.ok(Cls, `SDK ${sdk.label} has no export ${className}`);
  assert.ok(
    err instanceof Cls,
    `expected ${className} (${status}), got ${describeError(err)}`,
  );
  assert.equal(err.status, status, `status of ${className}: ${describeError(err)}`);
  return err;
}

/**
 * Await `promise`, require it to reject with any of the SDK's own exception
 * classes carrying a 4xx status. Returns `{ err, className }` so the caller
 * can record which class the server's answer mapped to.
 */
export async function expectClientError(sdk, promise) {
  let err;
  try {
    const value = await promise;
    assert.fail(`expected a 4xx SDK exception but the call resolved with ${JSON.stringify(value)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  const className = sdkExceptionName(sdk, err);
  assert.ok(className, `expected an SDK exception class, got ${describeError(err)}`);
  assert.ok(
    Number.isInteger(err.status) && err.status >= 400 && err.status < 500,
    `expected a 4xx status, got ${describeError(err)}`,
  );
  return { err, className };
}

/** Raw HTTP call to the server with the API key (for wire-level checks). */
export async function rawRequest(method, path, { body, headers = {}, apiKey = API_KEY } = {}) {
  const init = {
    method,
    headers: {
      Authorization: `Bearer ${apiKey}`,
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${PORTICO_URL}${path}`, init);
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Run `fn` over `items` with at most `limit` in flight; resolves to results in order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Retry `fn` until it returns without throwing, or `timeoutMs` passes. */
export async function eventually(fn, { timeoutMs = 5_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export function sortedSlugs(roles) {
  return (roles || []).map((r) => r.slug).sort();
}

/**
 * A fixed bcrypt hash (cost 10, `$2b$`) of IMPORTED_PASSWORD, for importing a
 * user with `passwordHash` / `passwordHashType: 'bcrypt'`.
 */
export const IMPORTED_PASSWORD = 'Imported-Passw0rd!';
export const IMPORTED_BCRYPT_HASH = '$2b$10$HxCxlWXLVzarr0ESdq1K6eVjQV94VPz4itelKhXVUy9GB3R2ZM3v.';

export const PLAIN_PASSWORD = 'Correct-Horse-Battery-9!';

// ---- sign-in helpers ---------------------------------------------------------

/**
 * The bootstrap client's redirect URI is http://localhost:3000/callback, so
 * any path on this origin is an allowed logout `return_to`.
 */
export const RETURN_TO_ORIGIN = 'http://localhost:3000';

const jwksByUrl = new Map();

/**
 * Verify an access token exactly as the SDK's session helpers do: jose's
 * `createRemoteJWKSet` on `userManagement.getJwksUrl(clientId)` and
 * `jwtVerify` (no audience, no issuer check). Returns `{ payload,
 * protectedHeader }`.
 */
export async function verifyAccessToken(workos, token) {
  const jwksUrl = workos.userManagement.getJwksUrl(CLIENT_ID);
  let jwks = jwksByUrl.get(jwksUrl);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(jwksUrl));
    jwksByUrl.set(jwksUrl, jwks);
  }
  return jwtVerify(token, jwks);
}

/**
 * Check the claims every Portico access token carries and return the
 * payload: RS256 with a `kid`, `sub` = user id, `sid` = session id, bare
 * ULID `jti`, `iat` not in the future, `exp` after `iat`.
 */
export async function assertAccessToken(workos, token, { userId, sessionId } = {}) {
  assert.equal(typeof token, 'string', 'access token is a string');
  const { payload, protectedHeader } = await verifyAccessToken(workos, token);
  assert.equal(protectedHeader.alg, 'RS256', 'alg');
  assert.equal(typeof protectedHeader.kid, 'string', 'kid header');
  assert.equal(typeof payload.iss, 'string', 'iss');
  if (userId) assert.equal(payload.sub, userId, 'sub is the user id');
  assert.match(String(payload.sid), idPattern('session'), 'sid');
  if (sessionId) assert.equal(payload.sid, sessionId, 'sid is unchanged');
  assert.match(String(payload.jti), ULID, 'jti is a bare ULID');
  assert.ok(Number.isInteger(payload.iat) && Number.isInteger(payload.exp), 'iat / exp are integers');
  assert.ok(payload.iat <= Math.ceil(Date.now() / 1000) + 1, `iat ${payload.iat} is in the future`);
  assert.ok(payload.exp > payload.iat, 'exp after iat');
  return payload;
}

/** Assert that `payload` carries no organization claims. */
export function assertUnscoped(payload) {
  for (const claim of ['org_id', 'role', 'roles', 'permissions']) {
    assert.equal(payload[claim], undefined, `unscoped token must not carry ${claim}`);
  }
}

/** Assert that `payload` lists every one of `expected` in `permissions`. */
export function assertHasPermissions(payload, expected) {
  assert.ok(Array.isArray(payload.permissions), `permissions claim: ${JSON.stringify(payload.permissions)}`);
  for (const slug of expected) {
    assert.ok(payload.permissions.includes(slug), `permissions ${JSON.stringify(payload.permissions)} lack ${slug}`);
  }
}

/**
 * Create permissions `<tag>-<uid>:read` / `:write` and add them to the
 * environment role `admin` (added, never set, so concurrent test files do not
 * undo each other). Returns the two slugs.
 */
export async function grantAdminPermissions(workos, tag) {
  const u = uid(3);
  const slugs = [`${tag}-${u}:read`, `${tag}-${u}:write`];
  for (const slug of slugs) {
    await workos.authorization.createPermission({ slug, name: slug });
    await workos.authorization.addEnvironmentRolePermission('admin', { permissionSlug: slug });
  }
  return slugs;
}

/** A user with PLAIN_PASSWORD (memberships are up to the caller). */
export async function createPasswordUser(workos, tag) {
  return workos.userManagement.createUser({
    email: uniqueEmail(tag),
    password: PLAIN_PASSWORD,
    emailVerified: true,
  });
}

/** A user with PLAIN_PASSWORD whose email is not verified yet. */
export async function createUnverifiedUser(workos, tag) {
  const user = await workos.userManagement.createUser({ email: uniqueEmail(tag), password: PLAIN_PASSWORD });
  assert.equal(user.emailVerified, false, 'a user created without emailVerified is unverified');
  return user;
}

/**
 * Await `promise`, require exactly the SDK class `className` (not a subclass
 * such as AuthenticationException for GenericServerException) with `status`.
 */
export async function expectExactSdkError(sdk, promise, className, status) {
  const err = await expectSdkError(sdk, promise, className, status);
  assert.equal(sdkExceptionName(sdk, err), className, `most specific class of ${err.name}`);
  return err;
}

/** Six digits, different from `code` (a wrong guess that is still well formed). */
export function otherCode(code) {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/**
 * The 6-digit code in the newest email to `to`, read from the dev mailbox
 * (`/_dev/mail.json`; the suite's server runs in dev mode). Waits until the
 * newest message to `to` is not one of `notIds` (ids of earlier messages).
 * Returns `{ code, id, subject }`.
 */
export async function mailedCode(to, { notIds = [] } = {}) {
  return eventually(async () => {
    const res = await fetch(`${PORTICO_URL}/_dev/mail.json`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200, 'the dev mailbox answers');
    const newest = (await res.json()).find((m) => m.to === to);
    assert.ok(newest, `a message to ${to} in the dev mailbox`);
    assert.ok(!notIds.includes(newest.id), `a new message to ${to}`);
    const match = /(?<!\d)(\d{6})(?!\d)/.exec(newest.text);
    assert.ok(match, `a 6-digit code in ${JSON.stringify(newest.text.slice(0, 200))}`);
    return { code: match[1], id: newest.id, subject: newest.subject };
  });
}

/** A fetch that does not follow redirects (for the browser-facing logout URL). */
export async function fetchNoRedirect(target) {
  const res = await fetch(target, { redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, location: res.headers.get('location'), headers: res.headers, text };
}

// ---- TOTP (RFC 6238) ----------------------------------------------------------

// The authenticator app the browser tests use too (compat/lib/totp.mjs).
export { authenticator, stepAt, totpAt, wrongCode } from '../../lib/totp.mjs';
