// Cursor pagination over 260 users in one organization.
//
// Note on the SDK: `AutoPaginatable.autoPagination()` returns only the first
// page when the *initial* call was given a `limit` (see the SDK's
// common/utils/pagination). Auto-pagination therefore starts from a call
// without `limit`; the SDK then requests `limit=100` pages itself and
// follows `list_metadata.after`, sleeping 350 ms between pages.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SDKS, client, uid, uniqueDomain, mapLimit } from './lib/harness.mjs';

const TOTAL = 260;

describe('pagination (260 users)', () => {
  const setup = client(SDKS[0]);
  let org;
  let expectedIds;

  before(async () => {
    org = await setup.organizations.createOrganization({
      name: `Pagination ${uid()}`,
      domainData: [{ domain: uniqueDomain('paging'), state: 'verified' }],
    });
    const run = uid(3);
    const users = await mapLimit(
      Array.from({ length: TOTAL }, (_, i) => i),
      8,
      async (i) => {
        const user = await setup.userManagement.createUser({
          email: `page-${run}-${String(i).padStart(3, '0')}@paging-${run}.example.com`,
        });
        await setup.userManagement.createOrganizationMembership({ organizationId: org.id, userId: user.id });
        return user.id;
      },
    );
    expectedIds = new Set(users);
    assert.equal(expectedIds.size, TOTAL, 'server returned duplicate ids on create');
  });

  for (const sdk of SDKS) {
    describe(`${sdk.label} ${sdk.version}`, () => {
      const workos = client(sdk);

      test('listUsers({organizationId}).autoPagination() yields every user exactly once', async () => {
        const first = await workos.userManagement.listUsers({ organizationId: org.id });
        const all = await first.autoPagination();
        const ids = all.map((u) => u.id);
        const unique = new Set(ids);
        assert.equal(ids.length - unique.size, 0, `${ids.length - unique.size} duplicates across pages`);
        assert.equal(ids.length, TOTAL, `expected ${TOTAL} users, got ${ids.length}`);
        for (const id of expectedIds) assert.ok(unique.has(id), `missing ${id}`);
      });

      test('listUsers({limit:100}) pages: after/before cursors', async () => {
        const p1 = await workos.userManagement.listUsers({ organizationId: org.id, limit: 100 });
        assert.equal(p1.data.length, 100);
        assert.ok(p1.listMetadata.after, 'page 1 has an after cursor');
        assert.equal(p1.listMetadata.after, p1.data[99].id, 'after = id of the last item');
        assert.equal(p1.listMetadata.before ?? null, null, 'page 1 has no before cursor');
        // With an initial limit, autoPagination() returns just this page (SDK behaviour).
        assert.equal((await p1.autoPagination()).length, 100);

        const p2 = await workos.userManagement.listUsers({
          organizationId: org.id,
          limit: 100,
          after: p1.listMetadata.after,
        });
        assert.equal(p2.data.length, 100);
        const p3 = await workos.userManagement.listUsers({
          organizationId: org.id,
          limit: 100,
          after: p2.listMetadata.after,
        });
        assert.equal(p3.data.length, TOTAL - 200);
        assert.equal(p3.listMetadata.after ?? null, null, 'last page has no after cursor');
        const ids = [...p1.data, ...p2.data, ...p3.data].map((u) => u.id);
        assert.equal(new Set(ids).size, TOTAL);

        assert.equal(p2.listMetadata.before, p2.data[0].id, 'before = id of the first item');
        const back = await workos.userManagement.listUsers({
          organizationId: org.id,
          limit: 100,
          before: p2.listMetadata.before,
        });
        assert.deepEqual(back.data.map((u) => u.id), p1.data.map((u) => u.id), 'before cursor returns the previous page');
      });

      test('order=asc is the reverse of the default (desc)', async () => {
        const desc = await (await workos.userManagement.listUsers({ organizationId: org.id })).autoPagination();
        const asc = await (
          await workos.userManagement.listUsers({ organizationId: org.id, order: 'asc' })
        ).autoPagination();
        assert.equal(asc.length, TOTAL);
        assert.deepEqual(asc.map((u) => u.id), desc.map((u) => u.id).reverse());
      });
    });
  }
});
