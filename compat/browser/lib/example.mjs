// Start one of the example apps for a browser test, pointed at the server
// under test, and wait until it answers: a Node app
// (examples/<name>/server.mjs) or Lighthouse, the Rust app in
// examples/b2b-axum (its prebuilt binary).
//
//   const app = await startExample('node-app', { port: 3917 });
//   await page.goto(app.url);
//   ...
//   await app.stop();
//
// The port must be one whose /callback compat/run.sh allowed as a redirect
// URI (3917, 3918, 3919, 3920 on 127.0.0.1). compat/setup.sh installs each
// Node example's packages.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { API_KEY, CLIENT_ID, PORTICO_URL, REPO_ROOT } from './browser.mjs';

export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');

/**
 * The Lighthouse binary: $PORTICO_EXAMPLE_B2B_BIN (compat/run.sh sets it to
 * the one next to the server binary), else target/debug/portico-example-b2b.
 */
export const EXAMPLE_B2B_BIN =
  process.env.PORTICO_EXAMPLE_B2B_BIN || join(REPO_ROOT, 'target', 'debug', 'portico-example-b2b');

/**
 * Spawns `command`, and resolves once it has printed `announcement` (apps
 * print their URL once listening, so another process on the port cannot pass
 * for them) and GET <url>/health answers 200. `label` names the app in
 * errors. Returns `{ url, redirectUri, output(), stop() }`.
 */
async function launch(label, command, args, { cwd, env, url, announcement, timeoutMs }) {
  let log = '';
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A binary that cannot be spawned at all (ENOENT, EACCES) emits only 'error'.
    child.once('error', (error) => resolve({ code: error.code ?? error.message, signal: null }));
  });
  let exitInfo;
  exited.then((info) => (exitInfo = info));

  const stop = async () => {
    if (exitInfo) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitInfo) {
      throw new Error(`${label} exited (${exitInfo.signal || `code ${exitInfo.code}`}) before answering:\n${log}`);
    }
    if (log.includes(announcement)) {
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok) break;
      } catch {
        // Not answering yet.
      }
    }
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(`${label} did not answer on ${url} within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, redirectUri: `${url}/callback`, output: () => log, stop };
}

/**
 * Spawn `node examples/<name>/server.mjs` with APP_URL=http://127.0.0.1:<port>
 * and the PORTICO_* variables; resolves once the app has printed its URL
 * (it does so once listening, so another process on the port cannot pass
 * for it) and GET <url>/health answers 200.
 * Returns `{ url, redirectUri, output(), stop() }`; `output()` is everything
 * the app printed so far (for failure messages).
 */
export async function startExample(name, { port, env = {}, timeoutMs = 15_000 } = {}) {
  if (!Number.isInteger(port)) throw new Error('startExample: give a fixed port whose /callback is an allowed redirect URI');
  const dir = join(EXAMPLES_DIR, name);
  const entry = join(dir, 'server.mjs');
  if (!existsSync(entry)) throw new Error(`no example app at ${entry}`);
  if (!existsSync(join(dir, 'node_modules'))) {
    throw new Error(`examples/${name} has no node_modules: run compat/setup.sh (it runs npm ci there)`);
  }
  const url = `http://127.0.0.1:${port}`;
  return launch(`examples/${name}`, process.execPath, [entry], {
    cwd: dir,
    env: {
      ...process.env,
      PORTICO_URL,
      PORTICO_API_KEY: API_KEY,
      PORTICO_CLIENT_ID: CLIENT_ID,
      APP_URL: url,
      COOKIE_PASSWORD: randomBytes(32).toString('base64url'),
      ...env,
    },
    url,
    announcement: `${url}/`,
    timeoutMs,
  });
}

/**
 * Start Lighthouse (examples/b2b-axum, the EXAMPLE_B2B_BIN binary) with
 * APP_URL=http://127.0.0.1:<port>, the PORTICO_* variables and a random
 * COOKIE_SECRET. On start it creates its permissions and roles in Portico
 * (admin, billing_admin, member, read_only); it prints its URL once
 * listening. Returns `{ url, redirectUri, output(), stop() }`.
 */
export async function startLighthouse({ port, env = {}, timeoutMs = 30_000 } = {}) {
  if (!Number.isInteger(port)) throw new Error('startLighthouse: give a fixed port whose /callback is an allowed redirect URI');
  if (!existsSync(EXAMPLE_B2B_BIN)) {
    throw new Error(
      `no Lighthouse binary at ${EXAMPLE_B2B_BIN}: build it (cargo build -p portico-example-b2b) or set PORTICO_EXAMPLE_B2B_BIN`,
    );
  }
  const url = `http://127.0.0.1:${port}`;
  return launch('examples/b2b-axum (Lighthouse)', EXAMPLE_B2B_BIN, [], {
    cwd: join(EXAMPLES_DIR, 'b2b-axum'),
    env: {
      ...process.env,
      PORTICO_URL,
      PORTICO_API_KEY: API_KEY,
      PORTICO_CLIENT_ID: CLIENT_ID,
      APP_URL: url,
      PORT: String(port),
      COOKIE_SECRET: randomBytes(32).toString('base64url'),
      ...env,
    },
    url,
    announcement: `Lighthouse is running at ${url} `,
    timeoutMs,
  });
}

/**
 * What the example app's signed-in page shows (each field's raw value, from
 * its data-value): { email, userId, sessionId, organizationId, role, roles,
 * permissions, accessTokenExpires, notice }. `roles` and `permissions` are
 * arrays; absent values are ''.
 */
export async function readAppSession(page) {
  const value = (id) => page.locator(`#${id}`).getAttribute('data-value');
  const list = async (id) => JSON.parse((await value(id)) || '[]');
  const notices = page.locator('[role=status]');
  return {
    email: await value('user-email'),
    userId: await value('user-id'),
    sessionId: await value('session-id'),
    organizationId: await value('organization-id'),
    role: await value('role'),
    roles: await list('roles'),
    permissions: (await list('permissions')).sort(),
    accessTokenExpires: await value('access-token-expires'),
    notice: (await notices.count()) ? (await notices.first().innerText()).trim() : undefined,
  };
}
