//! The customer's signature: a PNG from the signature pad (dark strokes on a transparent or
//! white background), refused when blank, trimmed to its ink.

use std::io::Cursor;

use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbaImage};

use crate::format::require_png;
use crate::{MediaError, content_id};

/// A signature PNG is refused above this size; a pad's canvas at three device pixels per CSS
/// pixel is a few hundred kilobytes.
const MAX_SIGNATURE_BYTES: u64 = 10 * 1024 * 1024;
/// And above this many pixels (a 4000 × 4000 canvas).
const MAX_SIGNATURE_PIXELS: u64 = 16_000_000;
/// Blank below this share of the canvas in ink.
const MIN_COVERAGE: f64 = 0.002;
/// Blank below this estimated length of all strokes, in pixels.
const MIN_STROKE_LENGTH: u32 = 150;
/// Transparent space kept around the ink when trimming.
const MARGIN: u32 = 8;

/// A signature that has ink on it, trimmed to the ink.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSignature {
    /// The trimmed signature as PNG, without metadata.
    pub png: Vec<u8>,
    /// The content id of `png`: lowercase hex SHA-256.
    pub id: String,
    pub width: u32,
    pub height: u32,
    /// The share of the original canvas covered by ink, 0.0 to 1.0.
    pub coverage: f64,
    /// The estimated length of all strokes in pixels.
    pub stroke_length: u32,
}

/// Checks that a signature pad's PNG holds a signature and trims it to the ink plus a margin.
///
/// A pixel is ink when it is mostly opaque (alpha above 128) and dark (luminance below 160),
/// so a transparent or white background is never ink. The stroke length is estimated as half
/// the number of ink pixels on the edge of a stroke (with a non-ink 4-neighbour): a stroke of
/// length L has two edges of about L pixels whatever its width.
pub fn check_signature(png: &[u8]) -> Result<CheckedSignature, MediaError> {
    if png.is_empty() {
        return Err(MediaError::EmptyFile);
    }
    let size = png.len() as u64;
    if size > MAX_SIGNATURE_BYTES {
        return Err(MediaError::TooLarge { size, max: MAX_SIGNATURE_BYTES });
    }
    require_png(png, "PNG signature image")?;
    let canvas = decode_png(png)?;

    let (width, height) = canvas.dimensions();
    let ink: Vec<bool> = canvas
        .pixels()
        .map(|pixel| {
            let [red, green, blue, alpha] = pixel.0;
            let luminance = (299 * u32::from(red) + 587 * u32::from(green) + 114 * u32::from(blue)) / 1000;
            alpha > 128 && luminance < 160
        })
        .collect();
    let is_ink = |x: i64, y: i64| {
        x >= 0 && y >= 0 && x < i64::from(width) && y < i64::from(height) && ink[(y * i64::from(width) + x) as usize]
    };

    let mut ink_pixels = 0u64;
    let mut edge_pixels = 0u64;
    let (mut left, mut top, mut right, mut bottom) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..height {
        for x in 0..width {
            let (xi, yi) = (i64::from(x), i64::from(y));
            if !is_ink(xi, yi) {
                continue;
            }
            ink_pixels += 1;
            if !(is_ink(xi - 1, yi) && is_ink(xi + 1, yi) && is_ink(xi, yi - 1) && is_ink(xi, yi + 1)) {
                edge_pixels += 1;
            }
            (left, top, right, bottom) = (left.min(x), top.min(y), right.max(x), bottom.max(y));
        }
    }
    let coverage = ink_pixels as f64 / (u64::from(width) * u64::from(height)) as f64;
    let stroke_length = u32::try_from(edge_pixels / 2).unwrap_or(u32::MAX);
    if ink_pixels == 0 || coverage < MIN_COVERAGE || stroke_length < MIN_STROKE_LENGTH {
        return Err(MediaError::SignatureBlank { coverage, stroke_length });
    }

    let left = left.saturating_sub(MARGIN);
    let top = top.saturating_sub(MARGIN);
    let right = (right + MARGIN).min(width - 1);
    let bottom = (bottom + MARGIN).min(height - 1);
    let trimmed = image::imageops::crop_imm(&canvas, left, top, right - left + 1, bottom - top + 1).to_image();

    let mut png = Vec::new();
    trimmed
        .write_with_encoder(PngEncoder::new(&mut png))
        .map_err(|error| MediaError::Encode { reason: error.to_string() })?;
    Ok(CheckedSignature {
        id: content_id(&png),
        png,
        width: trimmed.width(),
        height: trimmed.height(),
        coverage,
        stroke_length,
    })
}

/// Decodes a PNG to RGBA after checking its announced size, so a tiny file that claims a huge
/// canvas is refused before any pixel buffer exists.
fn decode_png(png: &[u8]) -> Result<RgbaImage, MediaError> {
    let broken = |error: image::ImageError| MediaError::BrokenImage { reason: error.to_string() };
    let mut reader = ImageReader::with_format(Cursor::new(png), image::ImageFormat::Png);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_SIGNATURE_PIXELS * 8 + 16 * 1024 * 1024);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(broken)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(MediaError::BrokenImage {
            reason: format!("the header gives a size of {width} × {height} pixels"),
        });
    }
    if u64::from(width) * u64::from(height) > MAX_SIGNATURE_PIXELS {
        return Err(MediaError::TooManyPixels { width, height, max_pixels: MAX_SIGNATURE_PIXELS });
    }
    Ok(DynamicImage::from_decoder(decoder).map_err(broken)?.into_rgba8())
}
