use thiserror::Error;

/// Why a photo or a signature was refused. The messages are written for the technician (or the
/// customer, for a signature) and say what to do; programs match on [`MediaError::code`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("The file is empty (0 bytes). Take the photo again, or choose another file.")]
    EmptyFile,

    #[error(
        "The file is {}, more than the {} Fieldbook accepts. Take the photo again at a lower \
         resolution, or choose a smaller file.",
        megabytes(*size),
        megabytes(*max)
    )]
    TooLarge { size: u64, max: u64 },

    #[error(
        "This file is not a {expected}{}. Choose a {expected}, or take the photo again with the \
         camera.",
        found.map(|found| format!(" (it looks like {found})")).unwrap_or_default()
    )]
    UnsupportedFormat {
        /// What the file seems to be, when its first bytes say so.
        found: Option<&'static str>,
        /// What was asked for, e.g. "JPEG, PNG or WebP photo".
        expected: &'static str,
    },

    #[error(
        "HEIC/HEIF photos are not supported yet. On an iPhone, set Settings > Camera > Formats to \
         \"Most Compatible\" so the camera saves JPEG photos; on other phones choose JPEG in the \
         camera's settings. Then take the photo again, or export it as JPEG and choose that file."
    )]
    HeicNotSupported,

    #[error(
        "The image cannot be read: it is damaged or incomplete ({reason}). Take the photo again, \
         or copy the file again if it came from another device."
    )]
    BrokenImage { reason: String },

    #[error(
        "The image is {width} × {height} pixels ({}), more than the {} Fieldbook accepts. Take \
         the photo again at a lower resolution.",
        megapixels(u64::from(*width) * u64::from(*height)),
        megapixels(*max_pixels)
    )]
    TooManyPixels { width: u32, height: u32, max_pixels: u64 },

    #[error(
        "The signature is blank or too short to be a signature. Please ask the customer to sign \
         again across the signature box."
    )]
    SignatureBlank {
        /// The share of the canvas covered by ink, 0.0 to 1.0.
        coverage: f64,
        /// The estimated length of all strokes in pixels.
        stroke_length: u32,
    },

    #[error(
        "The signature's pen strokes cannot be read ({reason}). Please ask the customer to sign \
         again."
    )]
    BadStrokes { reason: String },

    #[error(
        "The processed image could not be written ({reason}). This is a fault in Fieldbook, not \
         in the photo; please report it."
    )]
    Encode { reason: String },
}

impl MediaError {
    /// A stable code for programs and the UI, which never parse the message.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::EmptyFile => "empty_file",
            MediaError::TooLarge { .. } => "too_large",
            MediaError::UnsupportedFormat { .. } => "unsupported_format",
            MediaError::HeicNotSupported => "heic_not_supported",
            MediaError::BrokenImage { .. } => "broken_image",
            MediaError::TooManyPixels { .. } => "too_many_pixels",
            MediaError::SignatureBlank { .. } => "signature_blank",
            MediaError::BadStrokes { .. } => "bad_strokes",
            MediaError::Encode { .. } => "encode_failed",
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

fn megapixels(pixels: u64) -> String {
    format!("{:.1} megapixels", pixels as f64 / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_numbers_and_the_remedy() {
        let error = MediaError::TooLarge { size: 50 * 1024 * 1024, max: 40 * 1024 * 1024 };
        assert_eq!(
            error.to_string(),
            "The file is 50.0 MB, more than the 40.0 MB Fieldbook accepts. Take the photo again \
             at a lower resolution, or choose a smaller file."
        );
        let error = MediaError::UnsupportedFormat { found: Some("a GIF image"), expected: "JPEG, PNG or WebP photo" };
        assert!(
            error.to_string().starts_with("This file is not a JPEG, PNG or WebP photo (it looks like a GIF image).")
        );
        let error = MediaError::TooManyPixels { width: 100_000, height: 100_000, max_pixels: 50_000_000 };
        assert!(error.to_string().contains("(10000.0 megapixels), more than the 50.0 megapixels"));
        assert!(MediaError::HeicNotSupported.to_string().contains("Most Compatible"));
    }
}
