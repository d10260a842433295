"""A software authenticator (a passkey in a few lines) for the tests that use
passkeys on the hosted pages without a browser: it answers the options that
`POST /passkeys/options` returns the way a browser's
`navigator.credentials.create()` / `.get()` would, with a P-256 (ES256) key
made here, and gives back the JSON the pages' script posts in the
`credential` field (binary values in base64url without padding, as
`PublicKeyCredential.toJSON()` writes them).

    laptop = Authenticator()
    credential = laptop.create(register_options, origin="http://localhost:PORT")
    ...
    credential = laptop.get(sign_in_options, origin="http://localhost:PORT")
    form["credential"] = json.dumps(credential)

The Node tests have the same in compat/lib/webauthn.mjs.

What it writes (WebAuthn Level 2):
- clientDataJSON: {"type", "challenge" (base64url of the challenge bytes),
  "origin", "crossOrigin": false}, UTF-8;
- authenticatorData: SHA-256(RP ID) | flags | signCount (4 bytes, big-endian)
  | on registration the attested credential: AAGUID (16 zero bytes, as
  authenticators that attest "none" send) | credential id length (2 bytes)
  | credential id | COSE key;
- flags: UP (0x01) and UV (0x04: the user gave a PIN or biometric; Portico
  requires it) unless `verifies_user` is off, BE (0x08) and BS (0x10) for a
  synced passkey, AT (0x40) on registration;
- the COSE key: {1 (kty): 2 (EC2), 3 (alg): -7 (ES256), -1 (crv): 1 (P-256),
  -2: x, -3: y};
- the attestation object: {"fmt": "none", "attStmt": {}, "authData": ...};
- the assertion signature: ECDSA P-256 with SHA-256 (DER) over
  authenticatorData | SHA-256(clientDataJSON).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from typing import Any, Optional

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_USER_PRESENT = 0x01
FLAG_USER_VERIFIED = 0x04
FLAG_BACKUP_ELIGIBLE = 0x08
FLAG_BACKED_UP = 0x10
FLAG_ATTESTED_CREDENTIAL = 0x40

COSE_ES256 = -7


def b64url(data: bytes) -> str:
    """base64url without padding (how WebAuthn JSON carries bytes)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- CBOR (RFC 8949), only what authenticators write ---------------------------


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    if value < 0x100:
        return bytes([major << 5 | 24, value])
    if value < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", value)
    if value < 0x1_0000_0000:
        return bytes([major << 5 | 26]) + struct.pack(">I", value)
    return bytes([major << 5 | 27]) + struct.pack(">Q", value)


def cbor(value: Any) -> bytes:
    """Encode ints, byte strings, text strings and maps (dicts, in their order)."""
    if isinstance(value, bool):
        raise TypeError("CBOR booleans are not needed here")
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, (bytes, bytearray)):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, dict):
        out = _head(5, len(value))
        for key, item in value.items():
            out += cbor(key) + cbor(item)
        return out
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR here")


# ---- the authenticator ----------------------------------------------------------


class Authenticator:
    """One passkey: a P-256 key and a random credential id. `counter`: None
    for a synced passkey, whose signature counter is always 0 (as platform
    passkeys send); a number for one that counts every use (as most security
    keys do). `synced` sets the backup flags (BE, BS)."""

    def __init__(self, *, counter: Optional[int] = None, synced: bool = True) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.counter = counter
        self.synced = synced
        # Off: the authenticator only checked the user's presence (no PIN or biometric).
        self.verifies_user = True
        # The `user.id` of the registration options (the assertions' userHandle).
        self.user_handle = b""

    @property
    def id(self) -> str:
        """The credential id as the browser reports it (base64url)."""
        return b64url(self.credential_id)

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor(
            {
                1: 2,
                3: COSE_ES256,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    @staticmethod
    def client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": b64url(from_b64url(challenge)),
                "origin": origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode("utf-8")

    def authenticator_data(self, rp_id: str, attested: bool) -> bytes:
        flags = FLAG_USER_PRESENT
        if self.verifies_user:
            flags |= FLAG_USER_VERIFIED
        if self.synced:
            flags |= FLAG_BACKUP_ELIGIBLE | FLAG_BACKED_UP
        if attested:
            flags |= FLAG_ATTESTED_CREDENTIAL
        count = 0
        if self.counter is not None:
            self.counter += 1
            count = self.counter
        out = hashlib.sha256(rp_id.encode("utf-8")).digest() + bytes([flags]) + struct.pack(">I", count)
        if attested:
            out += bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self.cose_key()
        return out

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str,
        transports: tuple[str, ...] = ("internal", "hybrid"),
    ) -> dict[str, Any]:
        """Answer registration options (`navigator.credentials.create()`)."""
        if any(c.get("id") == self.id for c in options.get("excludeCredentials") or []):
            # A browser refuses too (InvalidStateError): this passkey is registered already.
            raise ValueError("this authenticator holds a credential the options exclude")
        assert any(p.get("alg") == COSE_ES256 for p in options["pubKeyCredParams"]), options["pubKeyCredParams"]
        self.user_handle = from_b64url(options["user"]["id"])
        client_data_json = self.client_data("webauthn.create", options["challenge"], origin)
        attestation_object = cbor(
            {"fmt": "none", "attStmt": {}, "authData": self.authenticator_data(options["rp"]["id"], attested=True)}
        )
        return {
            "id": self.id,
            "type": "public-key",
            "clientDataJSON": b64url(client_data_json),
            "attestationObject": b64url(attestation_object),
            "transports": list(transports),
        }

    def get(self, options: dict[str, Any], *, origin: str) -> dict[str, Any]:
        """Answer sign-in options (`navigator.credentials.get()`), signed with this passkey."""
        allowed = options.get("allowCredentials") or []
        if allowed and not any(c.get("id") == self.id for c in allowed):
            # A browser would find no passkey to use (NotAllowedError).
            raise ValueError(f"the options allow other credentials only: {allowed}")
        client_data_json = self.client_data("webauthn.get", options["challenge"], origin)
        authenticator_data = self.authenticator_data(options["rpId"], attested=False)
        signed = authenticator_data + hashlib.sha256(client_data_json).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": self.id,
            "type": "public-key",
            "clientDataJSON": b64url(client_data_json),
            "authenticatorData": b64url(authenticator_data),
            "signature": b64url(signature),
            "userHandle": b64url(self.user_handle),
        }
