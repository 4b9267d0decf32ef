//! The photo and signature pipeline: what the technician's camera and the customer's finger
//! produce goes in, and what comes out is small, upright, stripped of metadata and named by
//! its content.
//!
//! - [`process_photo`] takes a JPEG, PNG or WebP photo, refuses what it cannot or must not
//!   decode, and returns an upright JPEG scaled to a long edge, a thumbnail, their content ids
//!   and the capture time from the photo's EXIF data.
//! - [`check_signature`] takes the PNG a signature pad produced, refuses a blank one, trims it
//!   to the ink and returns it with its content id.
//!
//! Architecture invariant: nothing here knows about files, the store or the network; bytes go
//! in and bytes come out, so the app, the server and the tests call the same functions.
//!
//! Architecture invariant: the format of an input is decided by its first bytes, never by its
//! file name, and an image's pixel count is checked against a limit before any pixel buffer is
//! allocated, so a small file cannot make the device allocate gigabytes.

mod error;
mod format;
mod metadata;
mod photo;
mod signature;
mod strokes;

pub use error::MediaError;
pub use format::SourceFormat;
pub use photo::{PhotoOptions, ProcessedPhoto, process_photo, thumbnail_of};
pub use signature::{CheckedSignature, check_signature};
pub use strokes::{CheckedStrokes, SignatureStrokes, check_strokes};

/// The content id of some bytes: the lowercase hex SHA-256, the same value as
/// `fieldbook_domain::BlobId::of_bytes`.
pub fn content_id(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
