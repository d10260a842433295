// A software authenticator (a passkey in a few lines) for the tests that use
// passkeys on the hosted pages without a browser: it answers the options that
// `POST /passkeys/options` returns the way a browser's
// `navigator.credentials.create()` / `.get()` would, with a P-256 (ES256) key
// made here, and gives back the JSON the pages' script posts in the
// `credential` field (binary values in base64url without padding, as
// `PublicKeyCredential.toJSON()` writes them). The browser tests use
// Chromium's virtual authenticator instead; the Python tests have the same in
// python/webauthn.py.
//
//   const laptop = new Authenticator();
//   const credential = laptop.create(registerOptions, { origin: 'http://localhost:PORT' });
//   ...
//   const credential = laptop.get(signInOptions, { origin: 'http://localhost:PORT' });
//   form.credential = JSON.stringify(credential);
//
// What it writes (WebAuthn Level 2):
// - clientDataJSON: {"type", "challenge" (base64url of the challenge bytes),
//   "origin", "crossOrigin": false}, UTF-8;
// - authenticatorData: SHA-256(RP ID) | flags | signCount (4 bytes,
//   big-endian) | on registration the attested credential: AAGUID (16 zero
//   bytes, as authenticators that attest "none" send) | credential id length
//   (2 bytes) | credential id | COSE key;
// - flags: UP (0x01) and UV (0x04: the user gave a PIN or biometric; Portico
//   requires it) unless `verifiesUser` is off, BE (0x08) and BS (0x10) for a
//   synced passkey, AT (0x40) on registration;
// - the COSE key: {1 (kty): 2 (EC2), 3 (alg): -7 (ES256), -1 (crv): 1 (P-256),
//   -2: x, -3: y};
// - the attestation object: {"fmt": "none", "attStmt": {}, "authData": …};
// - the assertion signature: ECDSA P-256 with SHA-256 (DER, what
//   `crypto.sign` gives for an EC key) over authenticatorData |
//   SHA-256(clientDataJSON).

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export const FLAG_USER_PRESENT = 0x01;
export const FLAG_USER_VERIFIED = 0x04;
export const FLAG_BACKUP_ELIGIBLE = 0x08;
export const FLAG_BACKED_UP = 0x10;
export const FLAG_ATTESTED_CREDENTIAL = 0x40;
export const COSE_ES256 = -7;

/** base64url without padding (how WebAuthn JSON carries bytes). */
export function b64url(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

/** The bytes of a base64url text (padding or not). */
export function fromB64url(text) {
  return Buffer.from(String(text), 'base64url');
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest();
}

// ---- CBOR (RFC 8949), only what authenticators write ----------------------------

function head(major, value) {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) {
    const out = Buffer.alloc(3);
    out[0] = (major << 5) | 25;
    out.writeUInt16BE(value, 1);
    return out;
  }
  if (value < 0x1_0000_0000) {
    const out = Buffer.alloc(5);
    out[0] = (major << 5) | 26;
    out.writeUInt32BE(value, 1);
    return out;
  }
  const out = Buffer.alloc(9);
  out[0] = (major << 5) | 27;
  out.writeBigUInt64BE(BigInt(value), 1);
  return out;
}

/**
 * Encode integers, byte strings (Buffer / Uint8Array), text strings and maps
 * (a `Map`, for integer keys, or a plain object; entries in their order).
 */
export function cbor(value) {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`CBOR here takes integers only, not ${value}`);
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const raw = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, raw.length), raw]);
  }
  if (value instanceof Map) {
    return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return cbor(new Map(Object.entries(value)));
  }
  throw new TypeError(`cannot encode ${JSON.stringify(value)} as CBOR here`);
}

// ---- the authenticator ------------------------------------------------------------

/**
 * One passkey: a P-256 key and a random credential id. `counter`: undefined
 * for a synced passkey, whose signature counter is always 0 (as platform
 * passkeys send); a number for one that counts every use (as most security
 * keys do). `synced` sets the backup flags (BE, BS).
 */
export class Authenticator {
  constructor({ counter, synced = true } = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.x = fromB64url(jwk.x);
    this.y = fromB64url(jwk.y);
    this.credentialId = randomBytes(32);
    this.counter = counter;
    this.synced = synced;
    /** Off: the authenticator only checked the user's presence (no PIN or biometric). */
    this.verifiesUser = true;
    /** The `user.id` of the registration options (the assertions' userHandle). */
    this.userHandle = Buffer.alloc(0);
  }

  /** The credential id as the browser reports it (base64url). */
  get id() {
    return b64url(this.credentialId);
  }

  coseKey() {
    return cbor(
      new Map([
        [1, 2],
        [3, COSE_ES256],
        [-1, 1],
        [-2, this.x],
        [-3, this.y],
      ]),
    );
  }

  static clientData(type, challenge, origin) {
    return Buffer.from(
      JSON.stringify({ type, challenge: b64url(fromB64url(challenge)), origin, crossOrigin: false }),
      'utf8',
    );
  }

  authenticatorData(rpId, attested) {
    let flags = FLAG_USER_PRESENT;
    if (this.verifiesUser) flags |= FLAG_USER_VERIFIED;
    if (this.synced) flags |= FLAG_BACKUP_ELIGIBLE | FLAG_BACKED_UP;
    if (attested) flags |= FLAG_ATTESTED_CREDENTIAL;
    let count = 0;
    if (this.counter !== undefined) {
      this.counter += 1;
      count = this.counter;
    }
    const fixed = Buffer.alloc(5);
    fixed[0] = flags;
    fixed.writeUInt32BE(count, 1);
    const parts = [sha256(Buffer.from(rpId, 'utf8')), fixed];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), length, this.credentialId, this.coseKey());
    }
    return Buffer.concat(parts);
  }

  /** Answer registration options (`navigator.credentials.create()`). */
  create(options, { origin, transports = ['internal', 'hybrid'] }) {
    if ((options.excludeCredentials || []).some((c) => c.id === this.id)) {
      // A browser refuses too (InvalidStateError): this passkey is registered already.
      throw new Error('this authenticator holds a credential the options exclude');
    }
    if (!(options.pubKeyCredParams || []).some((p) => p.alg === COSE_ES256)) {
      throw new Error(`the options do not accept ES256: ${JSON.stringify(options.pubKeyCredParams)}`);
    }
    this.userHandle = fromB64url(options.user.id);
    const clientDataJSON = Authenticator.clientData('webauthn.create', options.challenge, origin);
    const attestationObject = cbor({
      fmt: 'none',
      attStmt: {},
      authData: this.authenticatorData(options.rp.id, true),
    });
    return {
      id: this.id,
      type: 'public-key',
      clientDataJSON: b64url(clientDataJSON),
      attestationObject: b64url(attestationObject),
      transports: [...transports],
    };
  }

  /** Answer sign-in options (`navigator.credentials.get()`), signed with this passkey. */
  get(options, { origin }) {
    const allowed = options.allowCredentials || [];
    if (allowed.length > 0 && !allowed.some((c) => c.id === this.id)) {
      // A browser would find no passkey to use (NotAllowedError).
      throw new Error(`the options allow other credentials only: ${JSON.stringify(allowed)}`);
    }
    const clientDataJSON = Authenticator.clientData('webauthn.get', options.challenge, origin);
    const authenticatorData = this.authenticatorData(options.rpId, false);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: this.id,
      type: 'public-key',
      clientDataJSON: b64url(clientDataJSON),
      authenticatorData: b64url(authenticatorData),
      signature: b64url(signature),
      userHandle: b64url(this.userHandle),
    };
  }
}
