// Wire-level conventions the SDKs depend on, checked with raw fetch:
// Idempotency-Key replay, 201 on create, JSON content type, X-Request-ID.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SDKS, client, rawRequest, uid, uniqueEmail, ISO_MS, idPattern } from './lib/harness.mjs';

describe('wire conventions (raw fetch)', () => {
  test('same Idempotency-Key + same body twice -> same user, created once', async () => {
    const email = uniqueEmail('idem');
    const key = `compat-${uid()}`;
    const body = { email, first_name: 'Idem' };
    const a = await rawRequest('POST', '/user_management/users', { body, headers: { 'Idempotency-Key': key } });
    const b = await rawRequest('POST', '/user_management/users', { body, headers: { 'Idempotency-Key': key } });
    assert.ok(a.status >= 200 && a.status < 300, `first POST: ${a.status} ${a.text}`);
    assert.ok(b.status >= 200 && b.status < 300, `replayed POST: ${b.status} ${b.text}`);
    assert.match(a.json.id, idPattern('user'));
    assert.equal(b.json.id, a.json.id, 'replay must return the same object');

    const list = await rawRequest('GET', `/user_management/users?email=${encodeURIComponent(email)}`);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.data.length, 1, `expected one user, got ${list.json.data.length}`);
  });

  test('different Idempotency-Keys create different objects', async () => {
    const name = `Idem org ${uid()}`;
    const a = await rawRequest('POST', '/organizations', { body: { name }, headers: { 'Idempotency-Key': `k1-${uid()}` } });
    const b = await rawRequest('POST', '/organizations', { body: { name }, headers: { 'Idempotency-Key': `k2-${uid()}` } });
    assert.ok(a.status < 300 && b.status < 300, `${a.status} ${b.status}`);
    assert.notEqual(a.json.id, b.json.id);
  });

  // The SDKs retry a 429 after Retry-After with the same Idempotency-Key;
  // that retry must run again (and be refused or served afresh), not get a
  // stored copy of the 429 without its Retry-After.
  test('a retry of a 429 with the same Idempotency-Key is not a stored replay', async () => {
    const email = uniqueEmail('magic-limit-raw');
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest('POST', '/user_management/magic_auth', { body: { email } });
      assert.equal(res.status, 201, res.text);
    }
    const key = `compat-${uid()}`;
    const first = await rawRequest('POST', '/user_management/magic_auth', {
      body: { email },
      headers: { 'Idempotency-Key': key },
    });
    assert.equal(first.status, 429, first.text);
    assert.match(String(first.headers.get('retry-after')), /^\d+$/, 'Retry-After on the 429');
    const retry = await rawRequest('POST', '/user_management/magic_auth', {
      body: { email },
      headers: { 'Idempotency-Key': key },
    });
    assert.equal(retry.status, 429, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), null, 'the 429 was stored and replayed');
    assert.match(String(retry.headers.get('retry-after')), /^\d+$/, 'Retry-After on the retried 429');
  });

  test('POST /user_management/users answers 201 with JSON and X-Request-ID', async () => {
    const res = await rawRequest('POST', '/user_management/users', { body: { email: uniqueEmail('wire') } });
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') || '', /^application\/json/);
    assert.ok(res.headers.get('x-request-id'), 'X-Request-ID header');
    assert.equal(res.json.object, 'user');
    assert.match(res.json.created_at, ISO_MS);
    for (const key of ['first_name', 'last_name', 'profile_picture_url', 'external_id', 'last_sign_in_at']) {
      assert.ok(key in res.json, `user JSON must carry "${key}" (null allowed)`);
    }
  });

  test('POST /organizations answers 201', async () => {
    const res = await rawRequest('POST', '/organizations', { body: { name: `Wire ${uid()}` } });
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') || '', /^application\/json/);
    assert.deepEqual(res.json.domains, []);
    assert.ok('external_id' in res.json && 'metadata' in res.json, 'organization JSON keys');
  });

  test('errors are JSON with X-Request-ID', async () => {
    const res = await rawRequest('GET', '/user_management/users/user_01HZZZZZZZZZZZZZZZZZZZZZZZ');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') || '', /^application\/json/);
    assert.ok(res.headers.get('x-request-id'), 'X-Request-ID header');
    assert.equal(typeof res.json?.message, 'string', `error body: ${res.text}`);

    const unauth = await rawRequest('GET', '/user_management/users', { apiKey: 'sk_test_nope' });
    assert.equal(unauth.status, 401);
    assert.match(unauth.headers.get('content-type') || '', /^application\/json/);
  });
});

for (const sdk of SDKS) {
  describe(`idempotency through the SDK (${sdk.label} ${sdk.version})`, () => {
    test('createOrganization with the same idempotencyKey returns the same organization', async () => {
      const workos = client(sdk);
      const key = `compat-org-${uid()}`;
      const payload = { name: `Idem ${uid()}` };
      const a = await workos.organizations.createOrganization(payload, { idempotencyKey: key });
      const b = await workos.organizations.createOrganization(payload, { idempotencyKey: key });
      assert.equal(b.id, a.id);
    });
  });
}
