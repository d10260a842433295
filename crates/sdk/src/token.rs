//! Access-token verification: RS256 only, a `kid` from the environment's JWKS, and the time
//! claims checked against the clock.

use crate::session::Session;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a token was refused. The message is safe to show to the caller; it never contains the
/// token.
///
/// ```
/// use portico_sdk::{Portico, TokenError};
///
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// assert_eq!(portico.verify_cached("not-a-jwt"), Err(TokenError::Malformed));
/// // A header of {"alg":"HS256","kid":"key_1"}: refused before any key is looked at.
/// let hs256 = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImtleV8xIn0.e30.c2ln";
/// let refused = portico.verify_cached(hs256).unwrap_err();
/// assert_eq!(refused, TokenError::UnsupportedAlgorithm("HS256".into()));
/// assert_eq!(refused.to_string(), "the access token is signed with HS256, not RS256");
/// ```
///
/// In a handler, tell an expired token (refresh and retry) from one that will never do:
///
/// ```no_run
/// # async fn demo(portico: portico_sdk::Portico, token: &str) {
/// use portico_sdk::TokenError;
///
/// match portico.verify(token).await {
///     Ok(session) => println!("hello, {}", session.user_id),
///     Err(TokenError::Expired) => println!("expired: refresh it and try again"),
///     Err(TokenError::Keys(reason)) => println!("Portico's keys could not be loaded: {reason}"),
///     Err(refused) => println!("refused: {refused}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts with JSON header and claims.
    #[error("the access token is malformed")]
    Malformed,
    /// Anything but RS256, including `none` and HS256 (which would turn the public key into an
    /// HMAC secret).
    #[error("the access token is signed with {0}, not RS256")]
    UnsupportedAlgorithm(String),
    #[error("the access token names no key (kid)")]
    MissingKeyId,
    /// The key is not in the JWKS, even after fetching it again.
    #[error("the access token was signed by an unknown key ({0})")]
    UnknownKey(String),
    #[error("the access token's signature is not valid")]
    BadSignature,
    #[error("the access token has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future.
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token was issued by {0}, not by this Portico")]
    WrongIssuer(String),
    /// The JWKS could not be fetched or read.
    #[error("the signing keys could not be loaded: {0}")]
    Keys(String),
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    /// Extensions the token says must be understood; Portico issues none.
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Actor {
    sub: Option<String>,
}

/// The claims of a Portico access token.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    exp: i64,
    iat: Option<i64>,
    nbf: Option<i64>,
    iss: Option<String>,
    jti: Option<String>,
    org_id: Option<String>,
    role: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
    act: Option<Actor>,
}

/// A JSON Web Key as `/sso/jwks/{client_id}` publishes it (only what verification reads).
#[derive(Deserialize)]
pub(crate) struct Jwk {
    kid: Option<String>,
    kty: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// `{"keys": [...]}`
#[derive(Deserialize)]
pub(crate) struct JwkSet {
    keys: Vec<Jwk>,
}

/// Verification keys by `kid`, parsed once.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, ParsedPublicKey>,
}

impl KeySet {
    /// Reads the RSA signing keys of a JWKS document; other keys are skipped.
    pub(crate) fn from_jwks(document: &[u8]) -> Result<KeySet, TokenError> {
        let set: JwkSet = serde_json::from_slice(document).map_err(|e| TokenError::Keys(format!("bad JWKS: {e}")))?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            let usable = jwk.kty.as_deref() == Some("RSA")
                && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
                && jwk.usage.as_deref().is_none_or(|usage| usage == "sig");
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else { continue };
            if !usable {
                continue;
            }
            let decode = |text: &str| URL_SAFE_NO_PAD.decode(text.trim_end_matches('='));
            let (Ok(n), Ok(e)) = (decode(&n), decode(&e)) else { continue };
            let der = RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
                .as_der()
                .map_err(|_| TokenError::Keys(format!("key {kid} is not a valid RSA key")))?;
            let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_ref())
                .map_err(|_| TokenError::Keys(format!("key {kid} is not a usable RS256 key")))?;
            keys.insert(kid, parsed);
        }
        Ok(KeySet { keys })
    }

    pub(crate) fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// What verification checks besides the signature.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// When set, `iss` must equal it.
    pub issuer: Option<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

/// A token split into its parts, with the header read: enough to pick the key.
pub(crate) struct Parsed<'a> {
    pub kid: String,
    signed: &'a str,
    claims: &'a str,
    signature: &'a str,
}

/// Reads the header and checks the algorithm; no key is needed yet.
pub(crate) fn parse(token: &str) -> Result<Parsed<'_>, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header_json = URL_SAFE_NO_PAD.decode(header).map_err(|_| TokenError::Malformed)?;
    let header: Header = serde_json::from_slice(&header_json).map_err(|_| TokenError::Malformed)?;
    if header.alg != "RS256" {
        return Err(TokenError::UnsupportedAlgorithm(header.alg));
    }
    if header.crit.is_some() {
        return Err(TokenError::Malformed);
    }
    let kid = header.kid.filter(|k| !k.is_empty()).ok_or(TokenError::MissingKeyId)?;
    let signed = &token[..header_len(token)];
    Ok(Parsed { kid, signed, claims, signature })
}

/// The length of `header.claims`, the signed part.
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

/// Checks the signature with `keys` and the claims against `rules` at `now`.
pub(crate) fn verify(
    parsed: &Parsed<'_>,
    keys: &KeySet,
    rules: &Rules,
    now: SystemTime,
) -> Result<Session, TokenError> {
    let key = keys.keys.get(&parsed.kid).ok_or_else(|| TokenError::UnknownKey(parsed.kid.clone()))?;
    let signature = URL_SAFE_NO_PAD.decode(parsed.signature).map_err(|_| TokenError::Malformed)?;
    key.verify_sig(parsed.signed.as_bytes(), &signature).map_err(|_| TokenError::BadSignature)?;
    let claims_json = URL_SAFE_NO_PAD.decode(parsed.claims).map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&claims_json).map_err(|_| TokenError::Malformed)?;
    let now_s = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let leeway = rules.leeway.as_secs() as i64;
    if now_s >= claims.exp + leeway {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now_s + leeway) || claims.iat.is_some_and(|iat| iat > now_s + leeway) {
        return Err(TokenError::NotYetValid);
    }
    if let Some(expected) = &rules.issuer
        && claims.iss.as_deref() != Some(expected.as_str())
    {
        return Err(TokenError::WrongIssuer(claims.iss.unwrap_or_else(|| "nobody".to_owned())));
    }
    Ok(Session {
        user_id: claims.sub,
        session_id: claims.sid,
        organization_id: claims.org_id,
        role: claims.role,
        roles: claims.roles,
        permissions: claims.permissions,
        impersonator: claims.act.and_then(|a| a.sub),
        expires_at: UNIX_EPOCH + Duration::from_secs(claims.exp.max(0) as u64),
        token_id: claims.jti,
    })
}
