//! Second factors and their challenges, in the WorkOS `authentication_factor` and
//! `authentication_challenge` shapes.

use crate::id::{AuthChallengeId, AuthFactorId, UserId};
use crate::timestamp::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "authentication_factor")]
pub struct AuthFactor {
    pub id: AuthFactorId,
    #[serde(rename = "type")]
    pub factor_type: &'static str,
    pub user_id: UserId,
    pub totp: Totp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The TOTP part of a factor. The secret, its QR code and URI appear only in the enrollment
/// response; afterwards nobody can read them back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totp {
    pub issuer: String,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "authentication_challenge")]
pub struct AuthChallenge {
    pub id: AuthChallengeId,
    pub authentication_factor_id: AuthFactorId,
    pub expires_at: Timestamp,
    /// Only SMS challenges carry a code; TOTP codes come from the user's app.
    pub code: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The `otpauth://` URI authenticator apps read from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn uri_escapes_label_and_issuer() {
        let uri = super::otpauth_uri("Acme Co", "a+b@example.com", "JBSWY3DP");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Co:a%2Bb%40example.com?secret=JBSWY3DP&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
        );
    }
}
