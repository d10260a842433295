//! WebAuthn verification for passkeys (W3C Web Authentication Level 2): the registration
//! ("create") and authentication ("get") responses a browser returns, checked against the
//! ceremony's challenge, the relying party's id and origins, the user-presence and
//! user-verification flags, the credential's public key (COSE ES256, EdDSA or RS256) and its
//! signature counter.
//!
//! Portico asks authenticators for no attestation and does not judge who made them, so an
//! attestation statement a browser sends anyway is not evaluated: the key is trusted as the
//! one the signed-in user registered. The CBOR reader is the small subset WebAuthn uses
//! (definite lengths, no tags, no floats), with limits on depth and length.

use aws_lc_rs::{digest, signature};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Who the credentials are for: the RP ID (a domain the origins are on) and the exact origins
/// the browser may be at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    pub origins: Vec<String>,
}

/// Why a response is refused. The reason is for logs; people are told the passkey did not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebauthnError {
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error("the response answers another ceremony: {0}")]
    WrongCeremony(String),
    #[error("the response was made for another site: {0}")]
    WrongRelyingParty(String),
    #[error("the authenticator did not verify the user (no PIN or biometric check)")]
    UserNotVerified,
    #[error("the authenticator did not report the user present")]
    UserNotPresent,
    #[error("unsupported credential key: {0}")]
    UnsupportedKey(String),
    #[error("the signature does not match the registered key")]
    BadSignature,
    #[error(
        "the signature counter went back ({stored} stored, {presented} presented): the authenticator may be cloned"
    )]
    CounterRegressed { stored: u32, presented: u32 },
}

type Result<T> = std::result::Result<T, WebauthnError>;

fn malformed(what: impl Into<String>) -> WebauthnError {
    WebauthnError::Malformed(what.into())
}

/// COSE algorithm identifiers Portico accepts, in the order it prefers them.
pub const SUPPORTED_ALGORITHMS: [i64; 3] = [ES256, EDDSA, RS256];
const ES256: i64 = -7;
const EDDSA: i64 = -8;
const RS256: i64 = -257;

const FLAG_USER_PRESENT: u8 = 0x01;
const FLAG_USER_VERIFIED: u8 = 0x04;
const FLAG_BACKUP_ELIGIBLE: u8 = 0x08;
const FLAG_BACKED_UP: u8 = 0x10;
const FLAG_ATTESTED_CREDENTIAL: u8 = 0x40;
const FLAG_EXTENSIONS: u8 = 0x80;

/// Credential ids longer than this are refused (the spec's limit).
const MAX_CREDENTIAL_ID_LEN: usize = 1023;

/// A newly registered credential, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub credential_id: Vec<u8>,
    /// The COSE key as the authenticator sent it; [`verify_assertion`] reads it back.
    pub public_key: Vec<u8>,
    pub algorithm: i64,
    pub sign_count: u32,
    pub aaguid: [u8; 16],
    /// The credential can be synced to the user's other devices (a multi-device passkey).
    pub backup_eligible: bool,
    pub backed_up: bool,
}

/// A verified sign-in with a stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assertion {
    pub sign_count: u32,
    pub backed_up: bool,
}

/// Checks the response to `navigator.credentials.create()` for a ceremony that issued
/// `challenge`. User verification is required: a passkey stands for two factors.
pub fn verify_registration(
    rp: &RelyingParty,
    challenge: &[u8],
    client_data_json: &[u8],
    attestation_object: &[u8],
) -> Result<Registration> {
    check_client_data(rp, "webauthn.create", challenge, client_data_json)?;
    let (object, used) = cbor::decode(attestation_object)?;
    if used != attestation_object.len() {
        return Err(malformed("bytes after the attestation object"));
    }
    let auth_data = object
        .text_key("authData")
        .and_then(cbor::Value::as_bytes)
        .ok_or_else(|| malformed("the attestation object has no authData"))?;
    object.text_key("fmt").and_then(cbor::Value::as_text).ok_or_else(|| malformed("the attestation has no fmt"))?;
    let data = AuthenticatorData::parse(auth_data)?;
    data.check(rp)?;
    let (aaguid, credential_id, public_key) =
        data.attested.ok_or_else(|| malformed("the authenticator data carries no credential"))?;
    let key = PublicKey::from_cose(public_key)?;
    Ok(Registration {
        credential_id: credential_id.to_vec(),
        public_key: public_key.to_vec(),
        algorithm: key.algorithm(),
        sign_count: data.sign_count,
        aaguid,
        backup_eligible: data.flags & FLAG_BACKUP_ELIGIBLE != 0,
        backed_up: data.flags & FLAG_BACKED_UP != 0,
    })
}

/// Checks the response to `navigator.credentials.get()` for a ceremony that issued
/// `challenge`, with the stored credential's key and signature counter.
pub fn verify_assertion(
    rp: &RelyingParty,
    challenge: &[u8],
    public_key: &[u8],
    stored_sign_count: u32,
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
) -> Result<Assertion> {
    check_client_data(rp, "webauthn.get", challenge, client_data_json)?;
    let data = AuthenticatorData::parse(authenticator_data)?;
    data.check(rp)?;
    let key = PublicKey::from_cose(public_key)?;
    let mut signed = Vec::with_capacity(authenticator_data.len() + 32);
    signed.extend_from_slice(authenticator_data);
    signed.extend_from_slice(digest::digest(&digest::SHA256, client_data_json).as_ref());
    if !key.verifies(&signed, signature) {
        return Err(WebauthnError::BadSignature);
    }
    // Authenticators that count (most security keys) must count up; synced passkeys send 0.
    if (data.sign_count != 0 || stored_sign_count != 0) && data.sign_count <= stored_sign_count {
        return Err(WebauthnError::CounterRegressed { stored: stored_sign_count, presented: data.sign_count });
    }
    Ok(Assertion { sign_count: data.sign_count, backed_up: data.flags & FLAG_BACKED_UP != 0 })
}

#[derive(serde::Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: bool,
}

fn check_client_data(rp: &RelyingParty, kind: &str, challenge: &[u8], json: &[u8]) -> Result<()> {
    let data: ClientData =
        serde_json::from_slice(json).map_err(|e| malformed(format!("clientDataJSON is not valid: {e}")))?;
    if data.kind != kind {
        return Err(WebauthnError::WrongCeremony(format!("type {:?}, expected {kind:?}", data.kind)));
    }
    let presented = URL_SAFE_NO_PAD
        .decode(data.challenge.trim_end_matches('='))
        .map_err(|_| malformed("the challenge is not base64url"))?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(presented.as_slice(), challenge)) {
        return Err(WebauthnError::WrongCeremony("the challenge is not this ceremony's".into()));
    }
    if !rp.origins.contains(&data.origin) {
        return Err(WebauthnError::WrongRelyingParty(format!("origin {:?}", data.origin)));
    }
    if data.cross_origin {
        return Err(WebauthnError::WrongRelyingParty("made inside a cross-origin frame".into()));
    }
    Ok(())
}

struct AuthenticatorData<'a> {
    rp_id_hash: &'a [u8],
    flags: u8,
    sign_count: u32,
    /// (AAGUID, credential id, COSE public key)
    attested: Option<([u8; 16], &'a [u8], &'a [u8])>,
}

impl<'a> AuthenticatorData<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() < 37 {
            return Err(malformed("authenticator data shorter than 37 bytes"));
        }
        let flags = bytes[32];
        let sign_count = u32::from_be_bytes([bytes[33], bytes[34], bytes[35], bytes[36]]);
        let mut rest = &bytes[37..];
        let attested = if flags & FLAG_ATTESTED_CREDENTIAL != 0 {
            if rest.len() < 18 {
                return Err(malformed("attested credential data is cut short"));
            }
            let mut aaguid = [0u8; 16];
            aaguid.copy_from_slice(&rest[..16]);
            let id_len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            rest = &rest[18..];
            if id_len == 0 || id_len > MAX_CREDENTIAL_ID_LEN || rest.len() < id_len {
                return Err(malformed("the credential id's length is wrong"));
            }
            let (credential_id, after) = rest.split_at(id_len);
            let (_, key_len) = cbor::decode(after)?;
            let (key, after_key) = after.split_at(key_len);
            rest = after_key;
            Some((aaguid, credential_id, key))
        } else {
            None
        };
        if flags & FLAG_EXTENSIONS != 0 {
            let (_, used) = cbor::decode(rest)?;
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            return Err(malformed("bytes after the authenticator data"));
        }
        Ok(AuthenticatorData { rp_id_hash: &bytes[..32], flags, sign_count, attested })
    }

    fn check(&self, rp: &RelyingParty) -> Result<()> {
        let expected = digest::digest(&digest::SHA256, rp.id.as_bytes());
        if self.rp_id_hash != expected.as_ref() {
            return Err(WebauthnError::WrongRelyingParty("the RP ID hash is not this server's".into()));
        }
        if self.flags & FLAG_USER_PRESENT == 0 {
            return Err(WebauthnError::UserNotPresent);
        }
        if self.flags & FLAG_USER_VERIFIED == 0 {
            return Err(WebauthnError::UserNotVerified);
        }
        Ok(())
    }
}

enum PublicKey {
    /// Uncompressed P-256 point (0x04 ‖ x ‖ y).
    Es256(Vec<u8>),
    Ed25519(Vec<u8>),
    Rs256 {
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

impl PublicKey {
    fn from_cose(bytes: &[u8]) -> Result<Self> {
        let (key, _) = cbor::decode(bytes)?;
        let int = |label: i64| key.int_key(label);
        let bytes_at = |label: i64, what: &str| {
            int(label).and_then(cbor::Value::as_bytes).ok_or_else(|| malformed(format!("the COSE key has no {what}")))
        };
        let kty = int(1).and_then(cbor::Value::as_int).ok_or_else(|| malformed("the COSE key has no kty"))?;
        let alg = int(3).and_then(cbor::Value::as_int).ok_or_else(|| malformed("the COSE key has no alg"))?;
        let crv = int(-1).and_then(cbor::Value::as_int);
        match (kty, alg) {
            (2, ES256) => {
                if crv != Some(1) {
                    return Err(WebauthnError::UnsupportedKey("ES256 on a curve other than P-256".into()));
                }
                let (x, y) = (bytes_at(-2, "x")?, bytes_at(-3, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(malformed("a P-256 coordinate is not 32 bytes"));
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                Ok(PublicKey::Es256(point))
            }
            (1, EDDSA) => {
                if crv != Some(6) {
                    return Err(WebauthnError::UnsupportedKey("EdDSA on a curve other than Ed25519".into()));
                }
                let x = bytes_at(-2, "x")?;
                if x.len() != 32 {
                    return Err(malformed("an Ed25519 key is not 32 bytes"));
                }
                Ok(PublicKey::Ed25519(x.to_vec()))
            }
            (3, RS256) => Ok(PublicKey::Rs256 { n: bytes_at(-1, "n")?.to_vec(), e: bytes_at(-2, "e")?.to_vec() }),
            (kty, alg) => Err(WebauthnError::UnsupportedKey(format!("kty {kty} with alg {alg}"))),
        }
    }

    fn algorithm(&self) -> i64 {
        match self {
            PublicKey::Es256(_) => ES256,
            PublicKey::Ed25519(_) => EDDSA,
            PublicKey::Rs256 { .. } => RS256,
        }
    }

    fn verifies(&self, message: &[u8], signature_bytes: &[u8]) -> bool {
        match self {
            PublicKey::Es256(point) => signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
                .verify(message, signature_bytes)
                .is_ok(),
            PublicKey::Ed25519(key) => {
                signature::UnparsedPublicKey::new(&signature::ED25519, key).verify(message, signature_bytes).is_ok()
            }
            PublicKey::Rs256 { n, e } => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature_bytes)
                .is_ok(),
        }
    }
}

/// The CBOR subset of WebAuthn: definite lengths, integers, byte and text strings, arrays,
/// maps, booleans and null.
mod cbor {
    use super::{Result, malformed};

    const MAX_DEPTH: u8 = 8;

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Value {
        Unsigned(u64),
        /// −1 − n
        Negative(u64),
        Bytes(Vec<u8>),
        Text(String),
        Array(Vec<Value>),
        Map(Vec<(Value, Value)>),
        Bool(bool),
        Null,
    }

    impl Value {
        pub fn as_int(&self) -> Option<i64> {
            match self {
                Value::Unsigned(n) => i64::try_from(*n).ok(),
                Value::Negative(n) => i64::try_from(*n).ok().map(|n| -1 - n),
                _ => None,
            }
        }

        pub fn as_bytes(&self) -> Option<&[u8]> {
            if let Value::Bytes(b) = self { Some(b) } else { None }
        }

        pub fn as_text(&self) -> Option<&str> {
            if let Value::Text(t) = self { Some(t) } else { None }
        }

        fn entry(&self, matches: impl Fn(&Value) -> bool) -> Option<&Value> {
            match self {
                Value::Map(entries) => entries.iter().find(|(k, _)| matches(k)).map(|(_, v)| v),
                _ => None,
            }
        }

        pub fn int_key(&self, label: i64) -> Option<&Value> {
            self.entry(|k| k.as_int() == Some(label))
        }

        pub fn text_key(&self, label: &str) -> Option<&Value> {
            self.entry(|k| k.as_text() == Some(label))
        }
    }

    /// Reads one item from the start of `input`: the item and how many bytes it took.
    pub fn decode(input: &[u8]) -> Result<(Value, usize)> {
        let mut reader = Reader { input, at: 0 };
        let value = reader.item(0)?;
        Ok((value, reader.at))
    }

    struct Reader<'a> {
        input: &'a [u8],
        at: usize,
    }

    impl Reader<'_> {
        fn take(&mut self, n: usize) -> Result<&[u8]> {
            let end = self
                .at
                .checked_add(n)
                .filter(|end| *end <= self.input.len())
                .ok_or_else(|| malformed("CBOR cut short"))?;
            let bytes = &self.input[self.at..end];
            self.at = end;
            Ok(bytes)
        }

        fn argument(&mut self, info: u8) -> Result<u64> {
            Ok(match info {
                0..=23 => u64::from(info),
                24 => u64::from(self.take(1)?[0]),
                25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().map_err(|_| malformed("CBOR"))?)),
                26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| malformed("CBOR"))?)),
                27 => u64::from_be_bytes(self.take(8)?.try_into().map_err(|_| malformed("CBOR"))?),
                _ => return Err(malformed("CBOR with an indefinite length")),
            })
        }

        /// A length that the remaining input could hold (each item takes at least a byte).
        fn length(&mut self, info: u8) -> Result<usize> {
            let n = self.argument(info)?;
            usize::try_from(n)
                .ok()
                .filter(|n| *n <= self.input.len() - self.at)
                .ok_or_else(|| malformed("a CBOR length beyond the input"))
        }

        fn item(&mut self, depth: u8) -> Result<Value> {
            if depth > MAX_DEPTH {
                return Err(malformed("CBOR nested too deeply"));
            }
            let initial = self.take(1)?[0];
            let (major, info) = (initial >> 5, initial & 0x1f);
            Ok(match major {
                0 => Value::Unsigned(self.argument(info)?),
                1 => Value::Negative(self.argument(info)?),
                2 => {
                    let n = self.length(info)?;
                    Value::Bytes(self.take(n)?.to_vec())
                }
                3 => {
                    let n = self.length(info)?;
                    let text = std::str::from_utf8(self.take(n)?).map_err(|_| malformed("CBOR text is not UTF-8"))?;
                    Value::Text(text.to_owned())
                }
                4 => {
                    let n = self.length(info)?;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.item(depth + 1)?);
                    }
                    Value::Array(items)
                }
                5 => {
                    let n = self.length(info)?;
                    let mut entries = Vec::with_capacity(n);
                    for _ in 0..n {
                        let key = self.item(depth + 1)?;
                        let value = self.item(depth + 1)?;
                        entries.push((key, value));
                    }
                    Value::Map(entries)
                }
                7 => match info {
                    20 => Value::Bool(false),
                    21 => Value::Bool(true),
                    22 => Value::Null,
                    _ => return Err(malformed("CBOR floats and simple values are not used by WebAuthn")),
                },
                _ => return Err(malformed("CBOR tags are not used by WebAuthn")),
            })
        }
    }
}

/// A software authenticator for tests: makes the responses a browser would return after a
/// platform authenticator that verified the user, with an ES256 or Ed25519 key.
#[cfg(any(test, feature = "test-authenticator"))]
pub mod software {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::KeyPair;

    /// What `navigator.credentials.create()` resolves to, in bytes.
    pub struct Created {
        pub credential_id: Vec<u8>,
        pub client_data_json: Vec<u8>,
        pub attestation_object: Vec<u8>,
    }

    /// What `navigator.credentials.get()` resolves to, in bytes.
    pub struct Asserted {
        pub credential_id: Vec<u8>,
        pub client_data_json: Vec<u8>,
        pub authenticator_data: Vec<u8>,
        pub signature: Vec<u8>,
        pub user_handle: Vec<u8>,
    }

    enum Key {
        Es256(signature::EcdsaKeyPair),
        Ed25519(signature::Ed25519KeyPair),
    }

    /// One credential on a software authenticator.
    pub struct Authenticator {
        key: Key,
        pub credential_id: Vec<u8>,
        pub user_handle: Vec<u8>,
        /// Counts signatures when set; synced passkeys leave it at zero.
        pub counter: Option<u32>,
        /// Whether the authenticator reports that it verified the user.
        pub verifies_user: bool,
    }

    fn encode_head(out: &mut Vec<u8>, major: u8, n: u64) {
        let major = major << 5;
        match n {
            0..=23 => out.push(major | n as u8),
            24..=0xff => out.extend_from_slice(&[major | 24, n as u8]),
            0x100..=0xffff => {
                out.push(major | 25);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            _ => {
                out.push(major | 26);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
        }
    }

    fn encode_int(out: &mut Vec<u8>, n: i64) {
        if n >= 0 { encode_head(out, 0, n as u64) } else { encode_head(out, 1, (-1 - n) as u64) }
    }

    fn encode_bytes(out: &mut Vec<u8>, b: &[u8]) {
        encode_head(out, 2, b.len() as u64);
        out.extend_from_slice(b);
    }

    fn encode_text(out: &mut Vec<u8>, t: &str) {
        encode_head(out, 3, t.len() as u64);
        out.extend_from_slice(t.as_bytes());
    }

    impl Authenticator {
        /// A new ES256 credential (what most platform authenticators make).
        pub fn es256() -> Self {
            let rng = SystemRandom::new();
            let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .unwrap_or_else(|_| panic!("generating a P-256 key"));
            let key = signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
                .unwrap_or_else(|_| panic!("reading a P-256 key"));
            Self::with_key(Key::Es256(key))
        }

        /// A new Ed25519 credential.
        pub fn ed25519() -> Self {
            let key = signature::Ed25519KeyPair::generate().unwrap_or_else(|_| panic!("generating an Ed25519 key"));
            Self::with_key(Key::Ed25519(key))
        }

        fn with_key(key: Key) -> Self {
            let credential_id = crate::secret::random_bytes::<16>().unwrap_or_else(|_| panic!("random")).to_vec();
            Authenticator { key, credential_id, user_handle: Vec::new(), counter: None, verifies_user: true }
        }

        fn cose_key(&self) -> Vec<u8> {
            let mut out = Vec::new();
            match &self.key {
                Key::Es256(key) => {
                    let point = key.public_key().as_ref();
                    encode_head(&mut out, 5, 5);
                    for (label, value) in [(1, 2), (3, ES256), (-1, 1)] {
                        encode_int(&mut out, label);
                        encode_int(&mut out, value);
                    }
                    encode_int(&mut out, -2);
                    encode_bytes(&mut out, &point[1..33]);
                    encode_int(&mut out, -3);
                    encode_bytes(&mut out, &point[33..65]);
                }
                Key::Ed25519(key) => {
                    encode_head(&mut out, 5, 4);
                    for (label, value) in [(1, 1), (3, EDDSA), (-1, 6)] {
                        encode_int(&mut out, label);
                        encode_int(&mut out, value);
                    }
                    encode_int(&mut out, -2);
                    encode_bytes(&mut out, key.public_key().as_ref());
                }
            }
            out
        }

        fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
            serde_json::json!({
                "type": kind,
                "challenge": URL_SAFE_NO_PAD.encode(challenge),
                "origin": origin,
                "crossOrigin": false,
            })
            .to_string()
            .into_bytes()
        }

        fn auth_data(&mut self, rp_id: &str, attested: bool) -> Vec<u8> {
            let mut out = digest::digest(&digest::SHA256, rp_id.as_bytes()).as_ref().to_vec();
            let mut flags = FLAG_USER_PRESENT | FLAG_BACKUP_ELIGIBLE | FLAG_BACKED_UP;
            if self.verifies_user {
                flags |= FLAG_USER_VERIFIED;
            }
            if attested {
                flags |= FLAG_ATTESTED_CREDENTIAL;
            }
            out.push(flags);
            let count = self.counter.map(|c| c + 1).unwrap_or(0);
            if self.counter.is_some() {
                self.counter = Some(count);
            }
            out.extend_from_slice(&count.to_be_bytes());
            if attested {
                out.extend_from_slice(&[0u8; 16]);
                out.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
                out.extend_from_slice(&self.credential_id);
                out.extend_from_slice(&self.cose_key());
            }
            out
        }

        /// Registers with the relying party `rp_id`, from a page at `origin`.
        pub fn create(&mut self, rp_id: &str, origin: &str, challenge: &[u8], user_handle: &[u8]) -> Created {
            self.user_handle = user_handle.to_vec();
            let client_data_json = Self::client_data("webauthn.create", challenge, origin);
            let auth_data = self.auth_data(rp_id, true);
            let mut attestation_object = Vec::new();
            encode_head(&mut attestation_object, 5, 3);
            encode_text(&mut attestation_object, "fmt");
            encode_text(&mut attestation_object, "none");
            encode_text(&mut attestation_object, "attStmt");
            encode_head(&mut attestation_object, 5, 0);
            encode_text(&mut attestation_object, "authData");
            encode_bytes(&mut attestation_object, &auth_data);
            Created { credential_id: self.credential_id.clone(), client_data_json, attestation_object }
        }

        /// Signs in to the relying party `rp_id`, from a page at `origin`.
        pub fn get(&mut self, rp_id: &str, origin: &str, challenge: &[u8]) -> Asserted {
            let client_data_json = Self::client_data("webauthn.get", challenge, origin);
            let authenticator_data = self.auth_data(rp_id, false);
            let mut signed = authenticator_data.clone();
            signed.extend_from_slice(digest::digest(&digest::SHA256, &client_data_json).as_ref());
            let signature = match &self.key {
                Key::Es256(key) => {
                    key.sign(&SystemRandom::new(), &signed).unwrap_or_else(|_| panic!("signing")).as_ref().to_vec()
                }
                Key::Ed25519(key) => key.sign(&signed).as_ref().to_vec(),
            };
            Asserted {
                credential_id: self.credential_id.clone(),
                client_data_json,
                authenticator_data,
                signature,
                user_handle: self.user_handle.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::software::Authenticator;
    use super::*;

    fn rp() -> RelyingParty {
        RelyingParty { id: "localhost".into(), origins: vec!["http://localhost:8080".into()] }
    }

    const ORIGIN: &str = "http://localhost:8080";

    fn registered(authenticator: &mut Authenticator) -> Registration {
        let created = authenticator.create("localhost", ORIGIN, b"challenge-one-xxxxxxxxxxxxxxxxxx", b"user");
        verify_registration(
            &rp(),
            b"challenge-one-xxxxxxxxxxxxxxxxxx",
            &created.client_data_json,
            &created.attestation_object,
        )
        .unwrap_or_else(|e| panic!("registration refused: {e}"))
    }

    fn assert_with(authenticator: &mut Authenticator, stored: &Registration, stored_count: u32) -> Result<Assertion> {
        let asserted = authenticator.get("localhost", ORIGIN, b"challenge-two");
        verify_assertion(
            &rp(),
            b"challenge-two",
            &stored.public_key,
            stored_count,
            &asserted.client_data_json,
            &asserted.authenticator_data,
            &asserted.signature,
        )
    }

    #[test]
    fn es256_and_ed25519_register_and_sign_in() {
        for mut authenticator in [Authenticator::es256(), Authenticator::ed25519()] {
            let registration = registered(&mut authenticator);
            assert_eq!(registration.credential_id, authenticator.credential_id);
            assert!(registration.backup_eligible && registration.backed_up);
            assert!(SUPPORTED_ALGORITHMS.contains(&registration.algorithm));
            let assertion = assert_with(&mut authenticator, &registration, 0).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(assertion.sign_count, 0);
        }
    }

    #[test]
    fn another_key_origin_rp_or_challenge_is_refused() {
        let mut authenticator = Authenticator::es256();
        let registration = registered(&mut authenticator);
        let mut other = Authenticator::es256();
        let stranger = registered(&mut other);
        assert_eq!(assert_with(&mut authenticator, &stranger, 0), Err(WebauthnError::BadSignature));

        let check = |asserted: &super::software::Asserted| {
            verify_assertion(
                &rp(),
                b"challenge-two",
                &registration.public_key,
                0,
                &asserted.client_data_json,
                &asserted.authenticator_data,
                &asserted.signature,
            )
        };
        let result = check(&authenticator.get("localhost", "http://evil.example", b"challenge-two"));
        assert!(matches!(result, Err(WebauthnError::WrongRelyingParty(_))), "{result:?}");
        let result = check(&authenticator.get("example.com", ORIGIN, b"challenge-two"));
        assert!(matches!(result, Err(WebauthnError::WrongRelyingParty(_))), "{result:?}");
        let result = check(&authenticator.get("localhost", ORIGIN, b"an old challenge"));
        assert!(matches!(result, Err(WebauthnError::WrongCeremony(_))), "{result:?}");

        // A registration response replayed as a sign-in.
        let created = authenticator.create("localhost", ORIGIN, b"challenge-two", b"user");
        let result = verify_assertion(
            &rp(),
            b"challenge-two",
            &registration.public_key,
            0,
            &created.client_data_json,
            &created.attestation_object,
            b"",
        );
        assert!(matches!(result, Err(WebauthnError::WrongCeremony(_))), "{result:?}");
    }

    #[test]
    fn tampered_data_breaks_the_signature() {
        let mut authenticator = Authenticator::es256();
        let registration = registered(&mut authenticator);
        let mut asserted = authenticator.get("localhost", ORIGIN, b"challenge-two");
        asserted.authenticator_data[36] ^= 1;
        let result = verify_assertion(
            &rp(),
            b"challenge-two",
            &registration.public_key,
            0,
            &asserted.client_data_json,
            &asserted.authenticator_data,
            &asserted.signature,
        );
        assert_eq!(result, Err(WebauthnError::BadSignature));
    }

    #[test]
    fn user_verification_is_required() {
        let mut authenticator = Authenticator::es256();
        authenticator.verifies_user = false;
        let created = authenticator.create("localhost", ORIGIN, b"c", b"user");
        assert_eq!(
            verify_registration(&rp(), b"c", &created.client_data_json, &created.attestation_object),
            Err(WebauthnError::UserNotVerified)
        );
    }

    #[test]
    fn a_counter_that_goes_back_is_refused() {
        let mut authenticator = Authenticator::es256();
        authenticator.counter = Some(0);
        let registration = registered(&mut authenticator);
        assert_eq!(registration.sign_count, 1);
        let first = assert_with(&mut authenticator, &registration, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.sign_count, 2);
        // A clone that signs with the same count again.
        authenticator.counter = Some(1);
        assert_eq!(
            assert_with(&mut authenticator, &registration, 2),
            Err(WebauthnError::CounterRegressed { stored: 2, presented: 2 })
        );
    }

    #[test]
    fn malformed_input_is_refused_not_panicked_on() {
        let mut authenticator = Authenticator::es256();
        let created = authenticator.create("localhost", ORIGIN, b"c", b"user");
        for cut in 0..created.attestation_object.len() {
            let result =
                verify_registration(&rp(), b"c", &created.client_data_json, &created.attestation_object[..cut]);
            assert!(result.is_err(), "a registration cut at {cut} bytes passed");
        }
        assert!(verify_registration(&rp(), b"c", b"not json", &created.attestation_object).is_err());
        // A length far beyond the input, and nesting beyond the limit.
        assert!(cbor::decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(cbor::decode(&[0x81; 64]).is_err());
        assert!(cbor::decode(&[0x9f]).is_err());
    }
}
