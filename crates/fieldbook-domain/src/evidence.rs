//! Tamper evidence of a signed visit report.
//!
//! At sign-off the device builds the report document (the visit as it was signed: the work
//! order, every record, the photo and signature content ids, the technician, the device and
//! the time), writes it as RFC 8785 canonical JSON, hashes that with SHA-256 and signs the hash
//! with the device's Ed25519 key, made at enrollment. Anyone holding the document, the blobs
//! and the device's public key can check that nothing changed: [`verify`].

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{BlobId, UserId, Visit};

/// The version of the report document's shape; a verifier refuses shapes it does not know.
pub const REPORT_FORMAT: u32 = 1;

/// What a signed report vouches for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportDocument {
    pub format: u32,
    /// The visit as signed: work order snapshot, results, fault records, parts, photos (by
    /// content id), the sign-off (with the signature's content id) and notes.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub visit: Visit,
    pub technician: ReportSigner,
    /// The device that signed, by its enrollment id.
    pub device_id: String,
    pub signed_at: DateTime<Utc>,
    /// The hash of the version this one amends (a returned visit signed again), if any.
    pub previous: Option<String>,
}

/// The technician who signed, as the report names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportSigner {
    pub id: UserId,
    pub name: String,
    pub staff_no: String,
}

impl ReportDocument {
    /// The document of a visit signed now by `technician` on `device_id`; `previous` is the
    /// hash of the version it amends.
    pub fn of_visit(
        visit: Visit,
        technician: ReportSigner,
        device_id: &str,
        signed_at: DateTime<Utc>,
        previous: Option<String>,
    ) -> Self {
        ReportDocument {
            format: REPORT_FORMAT,
            visit,
            technician,
            device_id: device_id.to_owned(),
            signed_at,
            previous,
        }
    }

    /// The RFC 8785 canonical JSON of the document: the same document gives the same bytes on
    /// every device and server.
    pub fn canonical_json(&self) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(self).expect("a report document serialises to JSON")
    }

    /// SHA-256 of the canonical JSON, lowercase hex.
    pub fn hash(&self) -> String {
        sha256_hex(&self.canonical_json())
    }

    /// Every blob the document names: the photos, then the signature and its strokes.
    pub fn blobs(&self) -> Vec<&BlobId> {
        let mut blobs: Vec<&BlobId> = self.visit.photos.iter().map(|p| &p.blob).collect();
        if let Some(sign_off) = &self.visit.sign_off {
            blobs.push(&sign_off.signature);
            blobs.extend(&sign_off.strokes);
        }
        blobs
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A short code for a report hash, for reading out on the phone: `3F2A-9C41`.
pub fn short_code(hash: &str) -> String {
    let upper = hash.to_ascii_uppercase();
    format!("{}-{}", &upper[..4.min(upper.len())], &upper[4.min(upper.len())..8.min(upper.len())])
}

/// A device's signing key. The 32 secret bytes stay on the device; the public key is sent to
/// the server at enrollment.
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// The key from its 32 secret bytes (made from the system's random source at enrollment).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&secret))
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the operating system's random source is readable");
        Self::from_secret(secret)
    }

    /// The key from its secret as stored on the device (64 hex characters).
    pub fn from_hex(secret: &str) -> Option<Self> {
        let bytes: [u8; 32] = hex::decode(secret).ok()?.try_into().ok()?;
        Some(Self::from_secret(bytes))
    }

    /// The secret as stored on the device (64 hex characters).
    pub fn secret_hex(&self) -> String {
        hex::encode(self.secret())
    }

    pub fn secret(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key, lowercase hex (64 characters).
    pub fn public_key(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// Signs the document: its hash, signed, with the public key to check it by.
    pub fn sign(&self, document: ReportDocument) -> SignedReport {
        let hash = document.hash();
        let signature = hex::encode(self.0.sign(hash.as_bytes()).to_bytes());
        SignedReport { document, hash, signature, public_key: self.public_key() }
    }
}

/// A report document with its hash, the device's signature over the hash, and the device's
/// public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedReport {
    pub document: ReportDocument,
    pub hash: String,
    pub signature: String,
    pub public_key: String,
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing changed since signing.
    Intact { hash: String, code: String, technician: String, device_id: String, signed_at: DateTime<Utc> },
    /// Intact, but the signing device has been revoked (reported lost): the signature proves
    /// only that whoever held that device signed.
    RevokedDevice { hash: String, device_id: String, signed_at: DateTime<Utc> },
    /// Something does not match; each reason in plain words.
    Tampered { reasons: Vec<String> },
}

impl Verdict {
    pub fn is_intact(&self) -> bool {
        matches!(self, Verdict::Intact { .. })
    }
}

/// Checks a signed report: the document's hash, the signature over it, every photo and the
/// signature image against their content ids (`blob` gives their bytes), and whether the
/// signing key is revoked.
pub fn verify(
    report: &SignedReport,
    blob: impl Fn(&BlobId) -> Option<Vec<u8>>,
    revoked: impl Fn(&str) -> bool,
) -> Verdict {
    let mut reasons = Vec::new();
    let d = &report.document;
    if d.format != REPORT_FORMAT {
        reasons.push(format!("unknown report format {} (this verifier knows {REPORT_FORMAT})", d.format));
    }
    let hash = d.hash();
    if hash != report.hash {
        reasons.push(format!("the report's content does not match its hash (stated {}, computed {hash})", report.hash));
    }
    match verifying_key(&report.public_key) {
        Ok(key) => {
            let signature = hex::decode(&report.signature)
                .ok()
                .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
                .map(|bytes| Signature::from_bytes(&bytes));
            match signature {
                Some(signature) if key.verify_strict(report.hash.as_bytes(), &signature).is_ok() => {}
                Some(_) => reasons.push("the signature does not match the report's hash and device key".to_owned()),
                None => reasons.push("the signature is not 64 bytes of hex".to_owned()),
            }
        }
        Err(reason) => reasons.push(reason),
    }
    for id in d.blobs() {
        match blob(id) {
            Some(bytes) if BlobId::of_bytes(&bytes) == *id => {}
            Some(_) => reasons.push(format!("the image {} has changed since signing", id.as_str())),
            None => reasons.push(format!("the image {} is missing", id.as_str())),
        }
    }
    if !reasons.is_empty() {
        return Verdict::Tampered { reasons };
    }
    if revoked(&report.public_key) {
        return Verdict::RevokedDevice { hash, device_id: d.device_id.clone(), signed_at: d.signed_at };
    }
    Verdict::Intact {
        code: short_code(&hash),
        hash,
        technician: format!("{} ({})", d.technician.name, d.technician.staff_no),
        device_id: d.device_id.clone(),
        signed_at: d.signed_at,
    }
}

/// What starts the seal line a device appends to a report PDF it exports.
const SEAL_MARKER: &[u8] = b"\n%FieldbookSeal ";

/// A device's signature over the exact bytes of a report PDF it exported: the pages as that
/// device typeset them from a signed report, with the names and photos it held. It travels as
/// one PDF comment line after the end of the file, which readers skip; anything changed in the
/// file before it, or appended after it (an incremental update that redraws a page), breaks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PdfSeal {
    /// The signed report the pages show (the one the PDF carries).
    pub report_hash: String,
    /// The device that typeset and sealed the pages.
    pub device_id: String,
    pub sealed_at: DateTime<Utc>,
    /// SHA-256 of the PDF's bytes before the seal line.
    pub pdf_sha256: String,
    pub public_key: String,
    pub signature: String,
}

impl PdfSeal {
    fn message(&self) -> String {
        format!(
            "fieldbook-pdf-seal/1\n{}\n{}\n{}\n{}",
            self.report_hash,
            self.device_id,
            self.sealed_at.timestamp_millis(),
            self.pdf_sha256
        )
    }
}

impl DeviceKey {
    /// `pdf` with this device's seal appended (see [`PdfSeal`]).
    pub fn seal_pdf(&self, pdf: &[u8], report_hash: &str, device_id: &str, at: DateTime<Utc>) -> Vec<u8> {
        let mut seal = PdfSeal {
            report_hash: report_hash.to_owned(),
            device_id: device_id.to_owned(),
            sealed_at: DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at),
            pdf_sha256: sha256_hex(pdf),
            public_key: self.public_key(),
            signature: String::new(),
        };
        seal.signature = hex::encode(self.0.sign(seal.message().as_bytes()).to_bytes());
        let mut sealed = pdf.to_vec();
        sealed.extend_from_slice(SEAL_MARKER);
        sealed.extend_from_slice(serde_json::to_string(&seal).expect("a seal serialises").as_bytes());
        sealed.push(b'\n');
        sealed
    }
}

/// What a PDF's seal says about its pages.
#[derive(Debug, Clone, PartialEq)]
pub enum SealCheck {
    /// The bytes are exactly as the device with `seal.public_key` sealed them. Whether that key
    /// is an enrolled device's is for the caller (the server) to say.
    Sealed(PdfSeal),
    /// A seal is there but the file is not as sealed; the reason in plain words.
    Broken(String),
    /// No seal: the file was not exported by Fieldbook, or was saved again by another program.
    Unsealed,
}

/// Reads and checks the seal of an exported report PDF.
pub fn check_pdf_seal(pdf: &[u8]) -> SealCheck {
    let Some(at) = pdf.windows(SEAL_MARKER.len()).rposition(|w| w == SEAL_MARKER) else {
        return SealCheck::Unsealed;
    };
    let (sealed, line) = (&pdf[..at], &pdf[at + SEAL_MARKER.len()..]);
    let Some(json) = line.strip_suffix(b"\n") else {
        return SealCheck::Broken("the seal line does not end the file".to_owned());
    };
    if json.contains(&b'\n') {
        return SealCheck::Broken("something was added to the file after its seal".to_owned());
    }
    let seal: PdfSeal = match serde_json::from_slice(json) {
        Ok(seal) => seal,
        Err(e) => return SealCheck::Broken(format!("the seal cannot be read: {e}")),
    };
    if sha256_hex(sealed) != seal.pdf_sha256 {
        return SealCheck::Broken("the pages have changed since the device sealed them".to_owned());
    }
    let signature = hex::decode(&seal.signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(|bytes| Signature::from_bytes(&bytes));
    match (verifying_key(&seal.public_key), signature) {
        (Ok(key), Some(signature)) if key.verify_strict(seal.message().as_bytes(), &signature).is_ok() => {
            SealCheck::Sealed(seal)
        }
        (Err(reason), _) => SealCheck::Broken(reason),
        _ => SealCheck::Broken("the seal's signature does not match its device key".to_owned()),
    }
}

/// Whether `hex_key` is an Ed25519 public key: 64 hex characters of a valid curve point.
pub fn check_public_key(hex_key: &str) -> Result<(), String> {
    verifying_key(hex_key).map(|_| ())
}

fn verifying_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "the device key is not 32 bytes of hex".to_owned())?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| "the device key is not a valid Ed25519 key".to_owned())?;
    // A key of small order (the identity, an 8-torsion point) verifies a forged signature over
    // any message with the plain check: such a device could vouch for any report or PDF. No
    // key a device makes from random bytes is one.
    if key.is_weak() {
        return Err("the device key is a weak Ed25519 key (of small order); make a new one".to_owned());
    }
    // A point written in a non-canonical form (such as all ff) names a key that signs under
    // another encoding: only the encoding a key makes of itself is taken.
    if key.to_edwards().compress().to_bytes() != bytes {
        return Err("the device key is not written in its canonical form".to_owned());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight points of small order (their canonical encodings), and a non-canonical
    /// encoding (all ff): no device key may be one.
    const WEAK_KEYS: [&str; 9] = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ];

    #[test]
    fn keys_of_small_order_are_refused_and_a_real_key_is_taken() {
        for weak in WEAK_KEYS {
            assert!(check_public_key(weak).is_err(), "{weak} is refused");
        }
        assert!(check_public_key(&DeviceKey::generate().public_key()).is_ok());
    }

    fn pdf() -> Vec<u8> {
        let mut pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
        pdf.extend((0..600).map(|i| b"0123456789 abcdef\n"[i % 18]));
        pdf.extend_from_slice(b"startxref\n9\n%%EOF");
        pdf
    }

    fn sealed(key: &DeviceKey) -> Vec<u8> {
        key.seal_pdf(&pdf(), "ab12", "device-7", DateTime::from_timestamp(1_764_560_000, 123_456_789).unwrap())
    }

    #[test]
    fn a_sealed_pdf_checks_out_with_who_sealed_it() {
        let key = DeviceKey::generate();
        let bytes = sealed(&key);
        assert!(bytes.starts_with(&pdf()), "the PDF itself is untouched");
        let SealCheck::Sealed(seal) = check_pdf_seal(&bytes) else { panic!("{:?}", check_pdf_seal(&bytes)) };
        assert_eq!((seal.report_hash.as_str(), seal.device_id.as_str()), ("ab12", "device-7"));
        assert_eq!(seal.public_key, key.public_key());
        assert_eq!(seal.sealed_at.timestamp_millis(), 1_764_560_000_123);
        assert_eq!(check_pdf_seal(&pdf()), SealCheck::Unsealed);
    }

    #[test]
    fn any_byte_changed_before_the_seal_or_added_after_it_breaks_it() {
        let bytes = sealed(&DeviceKey::generate());
        let length = pdf().len();
        for at in 0..length {
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            assert!(matches!(check_pdf_seal(&changed), SealCheck::Broken(_)), "byte {at}");
        }
        // An incremental update appended after the seal.
        let mut updated = bytes.clone();
        updated.extend_from_slice(b"2 0 obj << >> endobj\nstartxref\n99\n%%EOF\n");
        assert!(matches!(check_pdf_seal(&updated), SealCheck::Broken(_)));
        // The seal's own fields: another report, device, time, or key.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for (from, to) in [("ab12", "ab13"), ("device-7", "device-8"), ("2025-12-01", "2025-12-02")] {
            let edited = text.replacen(from, to, 1);
            assert!(matches!(check_pdf_seal(edited.as_bytes()), SealCheck::Broken(_)), "{from} → {to}");
        }
        let other = DeviceKey::generate();
        let SealCheck::Sealed(seal) = check_pdf_seal(&bytes) else { unreachable!() };
        let swapped = text.replacen(&seal.public_key, &other.public_key(), 1);
        assert!(matches!(check_pdf_seal(swapped.as_bytes()), SealCheck::Broken(_)));
    }

    #[test]
    fn a_seal_made_again_by_another_key_is_that_keys_seal() {
        // A forger can seal edited pages with a key of their own: the check then names that key,
        // and only the server knows whether an enrolled device holds it.
        let edited = {
            let mut pdf = pdf();
            pdf[20] = b'X';
            pdf
        };
        let forger = DeviceKey::generate();
        let bytes = forger.seal_pdf(&edited, "ab12", "device-7", DateTime::UNIX_EPOCH);
        let SealCheck::Sealed(seal) = check_pdf_seal(&bytes) else { panic!() };
        assert_eq!(seal.public_key, forger.public_key());
    }
}
