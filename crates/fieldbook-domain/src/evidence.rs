//! Tamper evidence of a signed visit report.
//!
//! At sign-off the device builds the report document (the visit as it was signed: the work
//! order, every record, the photo and signature content ids, the technician, the device and
//! the time), writes it as RFC 8785 canonical JSON, hashes that with SHA-256 and signs the hash
//! with the device's Ed25519 key, made at enrollment. Anyone holding the document, the blobs
//! and the device's public key can check that nothing changed: [`verify`].

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
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
                Some(signature) if key.verify(report.hash.as_bytes(), &signature).is_ok() => {}
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

/// Whether `hex_key` is an Ed25519 public key: 64 hex characters of a valid curve point.
pub fn check_public_key(hex_key: &str) -> Result<(), String> {
    verifying_key(hex_key).map(|_| ())
}

fn verifying_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "the device key is not 32 bytes of hex".to_owned())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "the device key is not a valid Ed25519 key".to_owned())
}
