//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30-second steps,
//! six digits — what every authenticator app speaks — and the base32 secrets they scan.

use aws_lc_rs::hmac;

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
/// Steps either side of now that still count, for clocks that drift and codes typed slowly.
const SKEW_STEPS: i64 = 1;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Result<Vec<u8>, crate::secret::RandomError> {
    Ok(crate::secret::random_bytes::<20>()?.to_vec())
}

/// Base32 without padding, as `otpauth://` URIs carry it.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Reads base32 (any case, spaces and padding ignored); `None` when a character is not base32.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32.iter().position(|b| char::from(*b) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The time step a Unix time falls in.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code for one time step.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let digest = tag.as_ref();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let word = u32::from_be_bytes([digest[offset], digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:0width$}", (word & 0x7fff_ffff) % 10u32.pow(DIGITS), width = DIGITS as usize)
}

/// The step a presented code belongs to, looking one step either side of now; `None` when it
/// matches none. Every candidate is compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    let mut found = None;
    for step in now - SKEW_STEPS..=now + SKEW_STEPS {
        if crate::secret::constant_time_eq(&code_at_step(secret, step), code) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA1 with the 20-byte ASCII secret, last six digits.
        let secret = b"12345678901234567890";
        for (time, code) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(code_at_step(secret, step_at(time)), code, "at {time}");
        }
    }

    #[test]
    fn codes_match_within_one_step_only() {
        let secret = b"12345678901234567890";
        let at = 1_111_111_109;
        assert_eq!(matching_step(secret, "081804", at), Some(step_at(at)));
        assert_eq!(matching_step(secret, "081804", at + 30), Some(step_at(at)));
        assert_eq!(matching_step(secret, "081804", at + 61), None);
        assert_eq!(matching_step(secret, "81804", at), None);
        assert_eq!(matching_step(secret, "08180a", at), None);
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert!(base32_decode("MZ1!").is_none());
        let secret = new_secret().unwrap();
        assert_eq!(base32_decode(&base32_encode(&secret)).unwrap(), secret);
        assert_eq!(base32_encode(&secret).len(), 32);
    }
}
