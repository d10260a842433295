// An authenticator app in a few lines: time-based one-time passwords (RFC
// 6238 over RFC 4226: HMAC-SHA1, 30-second steps, 6 digits) from a base32
// key, the one a set-up page shows or an enrollment through the API answers.
// Shared by the Node SDK tests (re-exported by node/lib/harness.mjs) and the
// browser tests; the Python tests have their own in python/support.py.
//
//   const app = authenticator(await page.locator('#totp-secret').textContent());
//   await page.locator('#code').fill(await app.next());
//
// Portico accepts a factor's code once per time step, and the codes of the
// steps either side of now too; `next()` hands out each step at most once,
// taking the next step's code (or waiting for it to come into reach) when
// the current one was used already. `wrongCode(secret)` is six digits that
// are no code of the key near now; `newSecret()` makes a key for an
// enrollment through the API (`totp_secret`).

import { createHmac, randomBytes } from 'node:crypto';

export const STEP_SECONDS = 30;
const DIGITS = 6;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The bytes of a base32 key (any case; spaces, dashes and padding ignored). */
export function base32Decode(text) {
  const clean = String(text).toUpperCase().replace(/[\s=-]/g, '');
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new Error(`${JSON.stringify(char)} is not base32 (in ${JSON.stringify(text)})`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** The time step a moment (ms since the epoch) falls in. */
export function stepAt(ms = Date.now()) {
  return Math.floor(ms / 1000 / STEP_SECONDS);
}

/** The 6-digit code of `secret` (bytes, or base32 text) for one time step. */
export function totpAt(secret, step) {
  const key = Buffer.isBuffer(secret) ? secret : base32Decode(secret);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', key).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const word = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(word % 10 ** DIGITS).padStart(DIGITS, '0');
}

/**
 * A six-digit code that is none of the codes of `secret` near now (two steps
 * either side), so a server that takes a step either side refuses it.
 */
export function wrongCode(secret, ms = Date.now()) {
  const now = stepAt(ms);
  const near = new Set();
  for (let step = now - 2; step <= now + 2; step += 1) near.add(totpAt(secret, step));
  for (const candidate of ['000000', '123456', '999999', '424242', '135790']) {
    if (!near.has(candidate)) return candidate;
  }
  throw new Error('no wrong code found (improbable)');
}

/**
 * An authenticator for one factor: `next()` answers a code for a step not
 * handed out before (the current step, else the next one, else it waits
 * until that is within one step of now); `secret` is the key's bytes.
 */
export function authenticator(base32Secret) {
  const secret = base32Decode(base32Secret);
  let lastStep = -Infinity;
  return {
    secret,
    async next() {
      for (;;) {
        const now = stepAt();
        const step = Math.max(now, lastStep + 1);
        if (step <= now + 1) {
          lastStep = step;
          return totpAt(secret, step);
        }
        // Both the current and the next step were used: wait for the next step to begin.
        await new Promise((r) => setTimeout(r, (now + 1) * STEP_SECONDS * 1000 - Date.now() + 50));
      }
    },
  };
}

/** Base32 without padding, as authenticator apps read keys. */
export function base32Encode(bytes) {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** A new random 160-bit key, in base32 (what an app imports with `totp_secret`). */
export function newSecret() {
  return base32Encode(randomBytes(20));
}
