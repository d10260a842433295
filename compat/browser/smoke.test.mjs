// Proves the browser harness: Chromium starts, reaches the server and reads
// its answer.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PORTICO_URL, closeBrowser, newPage } from './lib/browser.mjs';

after(closeBrowser);

test('Chromium opens /health and reads the JSON', async (t) => {
  const page = await newPage();
  try {
    const response = await page.goto(`${PORTICO_URL}/health`);
    assert.ok(response, 'navigation produced a response');
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { status: 'ok' });
    const browserVersion = page.context().browser()?.version();
    t.diagnostic(`Chromium ${browserVersion}`);
    // What the page shows is the same document.
    assert.deepEqual(JSON.parse(await page.locator('body').innerText()), { status: 'ok' });
  } finally {
    await page.context().close();
  }
});
