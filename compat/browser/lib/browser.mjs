// Shared helpers for the browser tests: a real Chromium (Debian's package,
// driven through playwright-core) against a live Portico server.
//
// The server under test is described by the same environment variables as
// the SDK tests (set by compat/run.sh):
//   PORTICO_URL        e.g. http://127.0.0.1:8080
//   PORTICO_API_KEY    sk_test_...
//   PORTICO_CLIENT_ID  client_...
// and, optionally:
//   CHROMIUM_PATH          the browser binary [default: /usr/bin/chromium]
//   PORTICO_SCREENSHOTS=1  write full-page screenshots to docs/screenshots/
//
// The server must run in dev mode: readMail() reads its dev mailbox.

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const PORTICO_URL = (process.env.PORTICO_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const API_KEY = process.env.PORTICO_API_KEY || 'sk_test_missing';
export const CLIENT_ID = process.env.PORTICO_CLIENT_ID || 'client_missing';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The repository root (compat/browser/lib → three levels up). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCREENSHOT_DIR = join(REPO_ROOT, 'docs', 'screenshots');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** How long a single page action or navigation may take. */
const ACTION_TIMEOUT_MS = 15_000;

let browserPromise;

/**
 * The shared Chromium instance, launched on first use. Call closeBrowser()
 * once the file's tests are done (an `after()` hook), or the test process
 * keeps running.
 */
export function browser() {
  if (!browserPromise) {
    browserPromise = chromium
      .launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 })
      .catch((err) => {
        browserPromise = undefined;
        throw new Error(
          `cannot launch Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH, or install Debian's chromium package): ${err.message}`,
        );
      });
  }
  return browserPromise;
}

export async function closeBrowser() {
  if (!browserPromise) return;
  const pending = browserPromise;
  browserPromise = undefined;
  try {
    await (await pending).close();
  } catch {
    // Launch failed or the browser is already gone: nothing to close.
  }
}

/**
 * A page in a fresh browser context (its own cookies and storage), so tests
 * never share a session. Close it with `page.context().close()`.
 */
export async function newPage({ viewport = { width: 1024, height: 768 } } = {}) {
  const context = await (await browser()).newContext({ viewport, locale: 'en-US' });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  return context.newPage();
}

/**
 * With PORTICO_SCREENSHOTS=1, save a full-page PNG (or only the viewport,
 * with `fullPage: false`) as docs/screenshots/<name>.png and return its
 * path; otherwise do nothing (so test runs leave the tree clean).
 */
export async function screenshot(page, name, { fullPage = true } = {}) {
  if (process.env.PORTICO_SCREENSHOTS !== '1') return undefined;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: use a-z, 0-9 and -`);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage, animations: 'disabled' });
  return path;
}

/** The dev mailbox: every message the server has sent, newest first. */
export async function listMail() {
  const res = await fetch(`${PORTICO_URL}/_dev/mail.json`, { headers: { Accept: 'application/json' } });
  if (!res.ok) {
    throw new Error(`GET /_dev/mail.json answered ${res.status} (is the server in dev mode?): ${await res.text()}`);
  }
  const messages = await res.json();
  if (!Array.isArray(messages)) throw new Error(`GET /_dev/mail.json did not answer an array: ${JSON.stringify(messages)}`);
  return messages;
}

function addressedTo(message, to) {
  const want = to.toLowerCase();
  const field = message.to;
  const list = Array.isArray(field) ? field : [field];
  return list.some((addr) => {
    const text = String(addr ?? '').toLowerCase();
    return text === want || text.endsWith(`<${want}>`);
  });
}

/**
 * Wait for the newest message to `to` in the dev mailbox and return it
 * (`{id, to, subject, text, html, created_at}`).
 *
 * `after` skips older messages: a message (or its id) returned by an
 * earlier readMail, or a Date / ISO timestamp (messages created at or after
 * it count).
 */
export async function readMail(to, { after, timeoutMs = 10_000, intervalMs = 150 } = {}) {
  let afterTime;
  if (after instanceof Date) afterTime = after.getTime();
  else if (typeof after === 'string' && !Number.isNaN(Date.parse(after))) afterTime = Date.parse(after);
  let afterId;
  if (typeof after === 'string' && afterTime === undefined) afterId = after;
  else if (after && typeof after === 'object' && !(after instanceof Date)) afterId = after.id;
  const deadline = Date.now() + timeoutMs;
  let last = [];
  for (;;) {
    last = await listMail();
    const mine = [];
    for (const message of last) {
      if (afterId !== undefined && message.id === afterId) break; // newest first: the rest are older
      if (!addressedTo(message, to)) continue;
      if (afterTime !== undefined && !(Date.parse(message.created_at) >= afterTime)) continue;
      mine.push(message);
    }
    if (mine.length > 0) return mine[0];
    if (Date.now() >= deadline) {
      const seen = last.slice(0, 5).map((m) => `${JSON.stringify(m.to)}: ${JSON.stringify(m.subject)}`);
      throw new Error(
        `no mail to ${to} within ${timeoutMs} ms; newest messages in the dev mailbox: ${seen.length ? seen.join('; ') : '(none)'}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The one-time code in a message's text: the first run of exactly six digits. */
export function codeFrom(text) {
  const match = /(?<!\d)(\d{6})(?!\d)/.exec(String(text ?? ''));
  if (!match) throw new Error(`no 6-digit code in ${JSON.stringify(String(text ?? '').slice(0, 300))}`);
  return match[1];
}

/** Short random token, unique per call and per run. */
export function uid() {
  return `${Date.now().toString(36)}${Math.random().toString(16).slice(2, 10)}`;
}

/** A unique, lower-case email address. */
export function uniqueEmail(tag = 'browser') {
  return `${tag}-${uid()}@compat.example.com`;
}
