//! RS256 access tokens: key generation (with the self-signed certificate the JWKS publishes as
//! `x5c`), signing, the public JWK, and verification.
//!
//! Only RS256 is issued, and verification accepts only RS256 with a known `kid`: the WorkOS SDKs
//! verify RS256 only, and pinning the algorithm rules out `alg: none` and HS256 confusion.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("key generation failed")]
    KeyGeneration,
    #[error("the private key is not a valid RSA PKCS#8 key")]
    BadKey,
    #[error("the certificate could not be made: {0}")]
    Certificate(String),
    #[error("signing failed")]
    Signing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is not signed with RS256")]
    WrongAlgorithm,
    #[error("the token's key is unknown")]
    UnknownKey,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
}

/// A new key pair: the PKCS#8 private key (to seal and store) and its self-signed certificate.
pub struct GeneratedKey {
    pub pkcs8_der: Vec<u8>,
    pub certificate_der: Vec<u8>,
}

/// Generates an RSA-2048 key and a self-signed certificate for it, valid as long as the key may
/// be used.
pub fn generate_key(common_name: &str) -> Result<GeneratedKey, JwtError> {
    use aws_lc_rs::encoding::AsDer;
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| JwtError::KeyGeneration)?;
    let pkcs8_der = pair.as_der().map_err(|_| JwtError::KeyGeneration)?.as_ref().to_vec();
    let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8_der.clone());
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| JwtError::Certificate(e.to_string()))?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| JwtError::Certificate(e.to_string()))?;
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let certificate = params.self_signed(&key).map_err(|e| JwtError::Certificate(e.to_string()))?;
    Ok(GeneratedKey { pkcs8_der, certificate_der: certificate.der().as_ref().to_vec() })
}

/// A key that signs access tokens.
pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    public: PublicKey,
}

impl SigningKey {
    pub fn from_pkcs8(kid: &str, pkcs8_der: &[u8], certificate_der: &[u8]) -> Result<Self, JwtError> {
        let pair = RsaKeyPair::from_pkcs8(pkcs8_der).map_err(|_| JwtError::BadKey)?;
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let public = PublicKey {
            kid: kid.to_owned(),
            n: components.n,
            e: components.e,
            certificate_der: certificate_der.to_vec(),
        };
        Ok(SigningKey { kid: kid.to_owned(), pair, public })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `claims` as a compact JWS with header `{"alg":"RS256","kid":…,"typ":"JWT"}`.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, JwtError> {
        let header = serde_json::json!({ "alg": "RS256", "kid": self.kid, "typ": "JWT" });
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(|_| JwtError::Signing)?);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|_| JwtError::Signing)?);
        let signing_input = format!("{header}.{payload}");
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| JwtError::Signing)?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The public half of a signing key, as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub certificate_der: Vec<u8>,
}

impl PublicKey {
    /// The JWK with every member the WorkOS SDKs read: `alg kty use kid n e x5c x5t#S256`.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "alg": "RS256",
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
            "x5c": [STANDARD.encode(&self.certificate_der)],
            "x5t#S256": URL_SAFE_NO_PAD.encode(Sha256::digest(&self.certificate_der)),
        })
    }
}

#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

#[derive(serde::Deserialize)]
struct TimeClaims {
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
}

/// Verifies an RS256 token against the published keys and returns its claims. `now` is in
/// seconds since the epoch.
pub fn verify<T: DeserializeOwned>(token: &str, keys: &[PublicKey], now: i64) -> Result<T, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header_json = URL_SAFE_NO_PAD.decode(header).map_err(|_| JwtError::Malformed)?;
    let parsed: Header = serde_json::from_slice(&header_json).map_err(|_| JwtError::Malformed)?;
    if parsed.alg != "RS256" {
        return Err(JwtError::WrongAlgorithm);
    }
    let kid = parsed.kid.ok_or(JwtError::UnknownKey)?;
    let key = keys.iter().find(|k| k.kid == kid).ok_or(JwtError::UnknownKey)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwtError::Malformed)?;
    let signing_input = &token[..header.len() + 1 + payload.len()];
    signature::RsaPublicKeyComponents { n: &key.n, e: &key.e }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signing_input.as_bytes(), &signature)
        .map_err(|_| JwtError::BadSignature)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| JwtError::Malformed)?;
    let times: TimeClaims = serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)?;
    if times.exp <= now {
        return Err(JwtError::Expired);
    }
    if times.nbf.is_some_and(|nbf| nbf > now) {
        return Err(JwtError::NotYetValid);
    }
    serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn key(kid: &str) -> SigningKey {
        let generated = generate_key("Portico test").unwrap();
        SigningKey::from_pkcs8(kid, &generated.pkcs8_der, &generated.certificate_der).unwrap()
    }

    #[test]
    fn signs_and_verifies() {
        let key = key("k1");
        let token = key.sign(&json!({"sub": "user_1", "exp": 2_000, "iat": 1_000})).unwrap();
        let claims: Value = verify(&token, &[key.public().clone()], 1_500).unwrap();
        assert_eq!(claims["sub"], "user_1");
        assert!(matches!(verify::<Value>(&token, &[key.public().clone()], 2_000), Err(JwtError::Expired)));
        let jwk = key.public().jwk();
        for member in ["alg", "kty", "use", "kid", "n", "e", "x5c", "x5t#S256"] {
            assert!(jwk.get(member).is_some(), "{member}");
        }
        assert_eq!(jwk["e"], "AQAB");
    }

    #[test]
    fn refuses_forged_and_confused_tokens() {
        let k1 = key("k1");
        let k2 = key("k2");
        let token = k1.sign(&json!({"sub": "user_1", "exp": 2_000})).unwrap();
        // Signed by another key under the same kid.
        let forged = SigningKey::from_pkcs8("k1", &generate_key("x").unwrap().pkcs8_der, &[]).unwrap();
        let forged_token = forged.sign(&json!({"sub": "user_1", "exp": 2_000})).unwrap();
        assert!(matches!(verify::<Value>(&forged_token, &[k1.public().clone()], 1), Err(JwtError::BadSignature)));
        assert!(matches!(verify::<Value>(&token, &[k2.public().clone()], 1), Err(JwtError::UnknownKey)));
        // Changed payload.
        let mut parts: Vec<&str> = token.split('.').collect();
        let evil = URL_SAFE_NO_PAD.encode(br#"{"sub":"user_2","exp":2000}"#);
        parts[1] = &evil;
        assert!(matches!(verify::<Value>(&parts.join("."), &[k1.public().clone()], 1), Err(JwtError::BadSignature)));
        // alg none and HS256 are refused before any key is tried.
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k1"}"#), evil);
        assert!(matches!(verify::<Value>(&none, &[k1.public().clone()], 1), Err(JwtError::WrongAlgorithm)));
        let hs = format!("{}.{}.c2ln", URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","kid":"k1"}"#), evil);
        assert!(matches!(verify::<Value>(&hs, &[k1.public().clone()], 1), Err(JwtError::WrongAlgorithm)));
        assert!(matches!(verify::<Value>("a.b", &[k1.public().clone()], 1), Err(JwtError::Malformed)));
    }
}
