//! Telling formats apart by their first bytes ("magic numbers"), never by a file name: a
//! text file named `photo.jpg` is still a text file.

use std::fmt;

use crate::MediaError;

/// The format a photo arrived in. The output is always JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Jpeg,
    Png,
    WebP,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "jpeg",
            SourceFormat::Png => "png",
            SourceFormat::WebP => "webp",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "image/jpeg",
            SourceFormat::Png => "image/png",
            SourceFormat::WebP => "image/webp",
        }
    }

    pub(crate) fn image_format(self) -> image::ImageFormat {
        match self {
            SourceFormat::Jpeg => image::ImageFormat::Jpeg,
            SourceFormat::Png => image::ImageFormat::Png,
            SourceFormat::WebP => image::ImageFormat::WebP,
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(crate) const PHOTO_FORMATS: &str = "JPEG, PNG or WebP photo";

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The format of a photo, or the refusal that names what the bytes are instead.
pub(crate) fn sniff_photo(bytes: &[u8]) -> Result<SourceFormat, MediaError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Ok(SourceFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(SourceFormat::WebP);
    }
    Err(refusal(bytes, PHOTO_FORMATS))
}

/// Whether the bytes are a PNG; anything else is refused with a message naming `expected`.
pub(crate) fn require_png(bytes: &[u8], expected: &'static str) -> Result<(), MediaError> {
    if bytes.starts_with(PNG_MAGIC) { Ok(()) } else { Err(refusal(bytes, expected)) }
}

fn refusal(bytes: &[u8], expected: &'static str) -> MediaError {
    match iso_media_brands(bytes) {
        Some(brands) if brands.iter().any(|brand| matches!(brand, b"avif" | b"avis")) => {
            MediaError::UnsupportedFormat { found: Some("an AVIF image"), expected }
        }
        Some(brands) if brands.iter().any(|brand| HEIF_BRANDS.contains(brand)) => MediaError::HeicNotSupported,
        Some(_) => MediaError::UnsupportedFormat { found: Some("a video or other media file"), expected },
        None => MediaError::UnsupportedFormat { found: other_format(bytes), expected },
    }
}

/// The brands of an ISO base media file (HEIF, AVIF, MP4, MOV), which open with an `ftyp` box.
const HEIF_BRANDS: &[[u8; 4]] =
    &[*b"heic", *b"heix", *b"heim", *b"heis", *b"hevc", *b"hevx", *b"hevm", *b"hevs", *b"mif1", *b"msf1"];

/// The major and compatible brands of the leading `ftyp` box, if there is one.
fn iso_media_brands(bytes: &[u8]) -> Option<Vec<[u8; 4]>> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let box_size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = box_size.clamp(16, bytes.len());
    // The major brand, then a minor version, then the compatible brands.
    let brands = bytes[8..12].chunks_exact(4).chain(bytes[16..end].chunks_exact(4));
    Some(brands.map(|brand| [brand[0], brand[1], brand[2], brand[3]]).collect())
}

/// A few formats a phone or a computer may hand over instead of a photo, named so the
/// technician knows what they chose.
fn other_format(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("a GIF image")
    } else if starts(b"BM") {
        Some("a BMP image")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("a TIFF or camera RAW image")
    } else if starts(b"%PDF") {
        Some("a PDF document")
    } else if starts(b"PK\x03\x04") {
        Some("a ZIP archive or office document")
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL ") {
        Some("a JPEG XL image")
    } else if looks_like_text(&bytes[..bytes.len().min(512)]) {
        Some("a text file")
    } else {
        None
    }
}

/// Whether the bytes are UTF-8 text without control characters other than white space; a
/// character cut off at the end of the sample does not count against it.
fn looks_like_text(sample: &[u8]) -> bool {
    let text = match std::str::from_utf8(sample) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&sample[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty() && text.chars().all(|c| !c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(sniff_photo(b"\xFF\xD8\xFF\xE0rest").unwrap(), SourceFormat::Jpeg);
        assert_eq!(sniff_photo(b"\x89PNG\r\n\x1a\nrest").unwrap(), SourceFormat::Png);
        assert_eq!(sniff_photo(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), SourceFormat::WebP);
        let found = |bytes: &[u8]| match sniff_photo(bytes) {
            Err(MediaError::UnsupportedFormat { found, .. }) => found,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(found(b"GIF89a...."), Some("a GIF image"));
        assert_eq!(found(b"hello, this is not a photo\n"), Some("a text file"));
        assert_eq!(found(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"), Some("an AVIF image"));
        assert_eq!(found(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"), Some("a video or other media file"));
        assert_eq!(found(&[0x00, 0x01, 0x02, 0xFE]), None);
    }

    #[test]
    fn heif_is_recognised_by_major_or_compatible_brand() {
        for bytes in [&b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"[..], b"\0\0\0\x14ftypmif1\0\0\0\0heix"] {
            assert!(matches!(sniff_photo(bytes), Err(MediaError::HeicNotSupported)));
        }
    }
}
