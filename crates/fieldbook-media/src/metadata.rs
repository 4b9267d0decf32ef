//! What the pipeline keeps from a photo's EXIF data: the capture time, stored beside the
//! photo, and the orientation, applied to the pixels. Everything else is dropped with the
//! re-encoding.

use std::io::Cursor;

use chrono::{NaiveDate, NaiveDateTime};
use exif::{In, Tag, Value};
use image::metadata::Orientation;

/// The EXIF facts the pipeline uses. Damaged or missing EXIF data gives the defaults rather
/// than a refusal: a photo whose camera wrote odd metadata is still a good photo.
#[derive(Debug, Default)]
pub(crate) struct PhotoMetadata {
    /// The raw EXIF orientation, 1 to 8, when present and valid.
    pub orientation: Option<Orientation>,
    /// When the photo was taken, in the camera's local time (EXIF keeps no time zone here).
    pub captured_at: Option<NaiveDateTime>,
}

/// Reads the EXIF data of a JPEG, PNG or WebP photo.
pub(crate) fn read_metadata(bytes: &[u8]) -> PhotoMetadata {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let exif = match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => exif,
        Err(exif::Error::PartialResult(partial)) => partial.into_inner().0,
        Err(_) => return PhotoMetadata::default(),
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u8::try_from(value).ok())
        .and_then(Orientation::from_exif);
    // DateTimeOriginal is when the shutter fired; DateTimeDigitized is the same for a camera
    // and is the fallback some apps write. DateTime (the file's modification) is not used.
    let captured_at =
        [(Tag::DateTimeOriginal, Tag::SubSecTimeOriginal), (Tag::DateTimeDigitized, Tag::SubSecTimeDigitized)]
            .into_iter()
            .find_map(|(tag, subsec_tag)| {
                let text = ascii(&exif.get_field(tag, In::PRIMARY)?.value)?;
                let mut time = exif::DateTime::from_ascii(text).ok()?;
                if let Some(subsec) = exif.get_field(subsec_tag, In::PRIMARY).and_then(|field| ascii(&field.value)) {
                    // A malformed sub-second field leaves the whole seconds, which are still right.
                    let _ = time.parse_subsec(subsec);
                }
                naive_date_time(&time)
            });
    PhotoMetadata { orientation, captured_at }
}

fn ascii(value: &Value) -> Option<&[u8]> {
    match value {
        Value::Ascii(strings) => strings.first().map(Vec::as_slice),
        _ => None,
    }
}

fn naive_date_time(time: &exif::DateTime) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(i32::from(time.year), u32::from(time.month), u32::from(time.day))?.and_hms_nano_opt(
        u32::from(time.hour),
        u32::from(time.minute),
        u32::from(time.second),
        time.nanosecond.unwrap_or(0),
    )
}
