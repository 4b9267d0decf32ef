//! The media pipeline's tests, on real files made at test time: JPEGs with real EXIF
//! segments, hand-built PNG headers, signature pads' PNGs with drawn strokes.

/// Builders of test inputs: images, EXIF segments, PNG chunks, strokes.
mod support;

/// Photos: orientation, size, content ids, capture time, and every refusal.
mod photo;

/// Signatures: blank and near-blank refusals, trimming, content ids.
mod signature;

/// The signature as pen strokes.
mod strokes;
