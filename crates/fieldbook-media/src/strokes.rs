//! The signature as vector data: the pen strokes the signature pad recorded, kept beside the
//! PNG so the signature can be redrawn at any size and its dynamics examined later.
//!
//! The pad's data (`{"width", "height", "groups": [{"points": [{"x", "y", "time", …}]}]}`,
//! as signature_pad's `toData()` gives it, with the canvas size in CSS pixels) is checked and
//! kept in one compact form: each stroke a list of `[x, y, ms]`, coordinates to a tenth of a
//! pixel, times in milliseconds after the first point. The same drawing always gives the same
//! bytes, so its content id is stable.

use serde::{Deserialize, Serialize};

use crate::{MediaError, content_id};

/// Larger pen data is refused: a long signature is a few thousand points, ~100 KB.
const MAX_STROKES_BYTES: usize = 2 * 1024 * 1024;
const MAX_STROKES: usize = 500;
const MAX_POINTS: usize = 50_000;
/// Blank below this length of all strokes, in CSS pixels (the PNG check measures device pixels).
const MIN_LENGTH: f64 = 60.0;
/// A point outside the canvas is kept at most this far outside it (a stroke leaving the box).
const SLACK: f64 = 50.0;

#[derive(Deserialize)]
struct PadData {
    width: f64,
    height: f64,
    groups: Vec<PadGroup>,
}

#[derive(Deserialize)]
struct PadGroup {
    points: Vec<PadPoint>,
}

#[derive(Deserialize)]
struct PadPoint {
    x: f64,
    y: f64,
    time: f64,
}

/// The kept form of a signature's strokes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureStrokes {
    /// The pad's size in CSS pixels.
    pub width: u32,
    pub height: u32,
    /// Each stroke's points: `[x, y, milliseconds after the signature's first point]`.
    pub strokes: Vec<Vec<[f64; 3]>>,
}

/// Checked strokes, ready to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedStrokes {
    /// [`SignatureStrokes`] as compact JSON.
    pub json: Vec<u8>,
    /// The content id of `json`.
    pub id: String,
    pub points: usize,
    /// The length of all strokes in CSS pixels.
    pub length: f64,
}

fn bad(reason: impl Into<String>) -> MediaError {
    MediaError::BadStrokes { reason: reason.into() }
}

/// Checks a signature pad's strokes: readable, within the canvas, of sane size, and long
/// enough to be a signature; returns them in their kept form.
pub fn check_strokes(data: &[u8]) -> Result<CheckedStrokes, MediaError> {
    if data.is_empty() {
        return Err(bad("no stroke data"));
    }
    if data.len() > MAX_STROKES_BYTES {
        return Err(bad(format!("{} bytes of stroke data, more than {MAX_STROKES_BYTES}", data.len())));
    }
    let pad: PadData = serde_json::from_slice(data).map_err(|e| bad(e.to_string()))?;
    if !(pad.width.is_finite() && pad.height.is_finite() && pad.width >= 1.0 && pad.height >= 1.0)
        || pad.width > 10_000.0
        || pad.height > 10_000.0
    {
        return Err(bad(format!("a {} × {} pad", pad.width, pad.height)));
    }
    if pad.groups.len() > MAX_STROKES {
        return Err(bad(format!("{} strokes, more than {MAX_STROKES}", pad.groups.len())));
    }
    let points: usize = pad.groups.iter().map(|g| g.points.len()).sum();
    if points > MAX_POINTS {
        return Err(bad(format!("{points} points, more than {MAX_POINTS}")));
    }
    let start = pad.groups.iter().flat_map(|g| g.points.first()).map(|p| p.time).fold(f64::INFINITY, f64::min);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let mut length = 0.0;
    let mut strokes = Vec::with_capacity(pad.groups.len());
    for group in &pad.groups {
        let mut stroke = Vec::with_capacity(group.points.len());
        for point in &group.points {
            if !(point.x.is_finite() && point.y.is_finite() && point.time.is_finite()) {
                return Err(bad(format!("a point at ({}, {}) at time {}", point.x, point.y, point.time)));
            }
            // A pen that left the box is kept at its edge (the customer signed; that is no
            // reason to refuse), a little outside at most.
            let (x, y) = (point.x.clamp(-SLACK, pad.width + SLACK), point.y.clamp(-SLACK, pad.height + SLACK));
            if point.time < start {
                return Err(bad("a point earlier than the signature's first"));
            }
            stroke.push([round(x), round(y), (point.time - start).round()]);
        }
        length +=
            stroke.windows(2).map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt()).sum::<f64>();
        if !stroke.is_empty() {
            strokes.push(stroke);
        }
    }
    if length < MIN_LENGTH {
        return Err(MediaError::SignatureBlank { coverage: 0.0, stroke_length: length as u32 });
    }
    let kept = SignatureStrokes { width: pad.width.round() as u32, height: pad.height.round() as u32, strokes };
    let json = serde_json::to_vec(&kept).map_err(|e| MediaError::Encode { reason: e.to_string() })?;
    Ok(CheckedStrokes { id: content_id(&json), json, points, length })
}
