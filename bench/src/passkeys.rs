//! `--suite passkeys`: the CPU cost of checking a passkey sign-in (`verify_assertion`: the
//! client data, the authenticator data and its flags, the COSE key, the ES256 signature, the
//! counter), next to the bare ECDSA P-256 verification it contains, measured in the same run.

use crate::commas;
use anyhow::{Context, Result};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use portico_crypto::webauthn::software::Authenticator;
use portico_crypto::webauthn::{RelyingParty, verify_assertion, verify_registration};
use std::time::Instant;

const RP_ID: &str = "auth.example.com";
const ORIGIN: &str = "https://auth.example.com";

/// Microseconds per call of `f`: the median of 7 timed batches on one thread.
fn per_call_us(batch: u32, mut f: impl FnMut() -> bool) -> Result<f64> {
    let mut samples = Vec::with_capacity(7);
    for _ in 0..7 {
        let started = Instant::now();
        for _ in 0..batch {
            anyhow::ensure!(std::hint::black_box(f()), "a verification failed during the benchmark");
        }
        samples.push(started.elapsed().as_secs_f64() * 1e6 / f64::from(batch));
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[3])
}

pub fn run(cores: usize) -> Result<String> {
    eprintln!("bench: passkey assertion verification");
    let rp = RelyingParty { id: RP_ID.to_owned(), origins: vec![ORIGIN.to_owned()] };
    let mut authenticator = Authenticator::es256();
    let created = authenticator.create(RP_ID, ORIGIN, b"registration challenge", b"user_01H");
    let registered =
        verify_registration(&rp, b"registration challenge", &created.client_data_json, &created.attestation_object)
            .context("registering the benchmark's passkey")?;
    let asserted = authenticator.get(RP_ID, ORIGIN, b"sign-in challenge");
    let full = per_call_us(5_000, || {
        verify_assertion(
            &rp,
            b"sign-in challenge",
            &registered.public_key,
            0,
            &asserted.client_data_json,
            &asserted.authenticator_data,
            &asserted.signature,
        )
        .is_ok()
    })?;
    // The same signature checked by aws-lc-rs alone, with the key as an uncompressed point.
    let (x, y) = cose_point(&registered.public_key)?;
    let mut point = vec![0x04];
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let mut signed = asserted.authenticator_data.clone();
    signed
        .extend_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &asserted.client_data_json).as_ref());
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point);
    let bare = per_call_us(5_000, || key.verify(&signed, &asserted.signature).is_ok())?;
    let mut section = String::from("## Passkeys\n\n");
    section.push_str(&format!(
        "Measured by `portico-bench --suite passkeys` (release build) on the same {cores}-CPU machine: a passkey sign-in's check (`verify_assertion`: client data JSON, challenge, origin, RP ID hash, user presence and verification, the COSE key, the ES256 signature, the counter) for a software authenticator's answer, median of 7 batches of 5,000 on one thread, next to the ECDSA P-256 verification of the same signature alone. The ceremony's database work (one insert for the challenge, one delete to use it up, one read and one update of the passkey) comes on top, as for any grant.\n\n"
    ));
    section.push_str("| Measure | Result | Bound measured in the same run | Share of the bound |\n|---|---|---|---|\n");
    section.push_str(&format!(
        "| Passkey assertion check, ES256 | {full:.1} µs ({} /s on one core) | ECDSA P-256 verification alone: {bare:.1} µs ({} /s) | {:.0} % of the time is the signature |\n\n",
        commas(1e6 / full),
        commas(1e6 / bare),
        100.0 * bare / full
    ));
    Ok(section)
}

/// x and y of a COSE EC2 key, read from its CBOR by position (the software authenticator writes
/// them last, as 32-byte strings after the labels -2 and -3).
fn cose_point(cose: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let find = |label: u8| {
        cose.windows(3)
            .position(|w| w == [label, 0x58, 32])
            .map(|at| cose[at + 3..at + 35].to_vec())
            .context("the COSE key has no coordinate")
    };
    Ok((find(0x21)?, find(0x22)?))
}
