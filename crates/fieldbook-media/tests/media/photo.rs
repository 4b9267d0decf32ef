use std::time::{Duration, Instant};

use chrono::NaiveDate;
use fieldbook_media::{MediaError, PhotoOptions, ProcessedPhoto, SourceFormat, process_photo};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

use crate::support::*;

/// Options that take the scaled JPEG decode (small long edge, so the source is over twice it)
/// or force the full-size decode, to check both paths give the same answers.
fn both_paths(max_long_edge: u32) -> [PhotoOptions; 2] {
    let scaled = PhotoOptions { max_long_edge, ..PhotoOptions::default() };
    let full = PhotoOptions { scaled_jpeg_decode: false, ..scaled.clone() };
    [scaled, full]
}

fn refusal_code(bytes: &[u8], options: &PhotoOptions) -> &'static str {
    match process_photo(bytes, options) {
        Ok(photo) => panic!("expected a refusal, got a {}×{} photo", photo.width, photo.height),
        Err(error) => {
            assert!(!error.to_string().is_empty());
            error.code()
        }
    }
}

fn assert_colour_near(image: &RgbImage, x: u32, y: u32, expected: Rgb<u8>, what: &str) {
    let actual = image.get_pixel(x, y);
    let close = actual.0.iter().zip(expected.0).all(|(a, e)| a.abs_diff(e) <= 40);
    assert!(close, "{what}: pixel ({x}, {y}) is {actual:?}, expected about {expected:?}");
}

/// Checks the red block is top-left and the blue block top-right: the photo is upright.
fn assert_upright(photo: &ProcessedPhoto, what: &str) {
    let image = decode(&photo.jpeg);
    let (width, height) = image.dimensions();
    assert!(width > height, "{what}: landscape picture came out {width}×{height}");
    assert_colour_near(&image, width / 6, height / 6, RED, &format!("{what}, top left"));
    assert_colour_near(&image, width - width / 6, height / 6, BLUE, &format!("{what}, top right"));
    assert_colour_near(&image, width / 6, height - height / 6, WHITE, &format!("{what}, bottom left"));
    assert_colour_near(&image, width - width / 6, height - height / 6, WHITE, &format!("{what}, bottom right"));
    let thumbnail = decode(&photo.thumbnail);
    let (width, height) = thumbnail.dimensions();
    assert_colour_near(&thumbnail, width / 6, height / 6, RED, &format!("{what}, thumbnail top left"));
    assert_colour_near(&thumbnail, width - width / 6, height / 6, BLUE, &format!("{what}, thumbnail top right"));
}

#[test]
fn every_exif_orientation_comes_out_upright_on_both_decode_paths() {
    let upright = upright_picture(900, 600);
    for orientation in 1..=8 {
        let stored = as_stored(&upright, orientation);
        let bytes = with_exif(&jpeg(&stored), &exif_tiff(orientation, None));
        for options in both_paths(400) {
            let what = format!("orientation {orientation}, scaled decode {}", options.scaled_jpeg_decode);
            let photo = process_photo(&bytes, &options).unwrap_or_else(|error| panic!("{what}: {error}"));
            assert_eq!((photo.width, photo.height), (400, 267), "{what}");
            assert_eq!((photo.source_width, photo.source_height), (900, 600), "{what}: upright source size");
            assert_upright(&photo, &what);
        }
    }
}

#[test]
fn orientation_is_applied_to_png_and_webp_too() {
    let upright = upright_picture(300, 200);
    let stored = as_stored(&upright, 6);
    let png = png_with_exif(&png(&DynamicImage::ImageRgb8(stored.clone())), &exif_tiff(6, None));
    let photo = process_photo(&png, &PhotoOptions::default()).unwrap();
    assert_eq!(photo.source_format, SourceFormat::Png);
    assert_upright(&photo, "PNG with eXIf orientation 6");

    let photo = process_photo(&webp(&upright), &PhotoOptions::default()).unwrap();
    assert_eq!(photo.source_format, SourceFormat::WebP);
    assert_eq!((photo.width, photo.height), (300, 200));
    assert_upright(&photo, "WebP");
}

#[test]
fn a_large_photo_is_scaled_to_the_long_edge_and_a_thumbnail() {
    let bytes = jpeg(&photo_like(3400, 2400));
    for options in both_paths(1600) {
        let photo = process_photo(&bytes, &options).unwrap();
        assert_eq!(photo.source_format, SourceFormat::Jpeg);
        assert_eq!((photo.width, photo.height), (1600, 1129));
        assert_eq!((photo.thumbnail_width, photo.thumbnail_height), (256, 181));
        assert_eq!(decode(&photo.jpeg).dimensions(), (1600, 1129));
        assert_eq!(decode(&photo.thumbnail).dimensions(), (256, 181));
        assert_eq!(format_of(&photo.jpeg), ImageFormat::Jpeg);
        assert_eq!(format_of(&photo.thumbnail), ImageFormat::Jpeg);
    }
}

#[test]
fn a_small_photo_is_never_enlarged() {
    let photo = process_photo(&jpeg(&photo_like(800, 600)), &PhotoOptions::default()).unwrap();
    assert_eq!((photo.width, photo.height), (800, 600));
    assert_eq!((photo.thumbnail_width, photo.thumbnail_height), (256, 192));
    let tiny = process_photo(&jpeg(&photo_like(100, 50)), &PhotoOptions::default()).unwrap();
    assert_eq!((tiny.width, tiny.height), (100, 50));
    assert_eq!((tiny.thumbnail_width, tiny.thumbnail_height), (100, 50));
}

#[test]
fn the_scaled_decode_looks_like_the_full_decode() {
    let bytes = jpeg(&photo_like(2000, 1500));
    let [scaled, full] = both_paths(500).map(|options| decode(&process_photo(&bytes, &options).unwrap().jpeg));
    assert_eq!(scaled.dimensions(), full.dimensions());
    // Not the same pixels: the scaled path really was taken.
    assert_ne!(scaled, full);
    let total: u64 = scaled.as_raw().iter().zip(full.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
    let mean = total as f64 / scaled.as_raw().len() as f64;
    assert!(mean < 3.0, "mean difference per channel {mean:.2}");
}

#[test]
fn content_ids_are_the_sha256_of_the_output_and_stable() {
    let bytes = with_exif(&jpeg(&photo_like(1200, 900)), &exif_tiff(6, Some("2024:05:17 14:03:22")));
    let first = process_photo(&bytes, &PhotoOptions::default()).unwrap();
    let second = process_photo(&bytes, &PhotoOptions::default()).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.id, sha256_hex(&first.jpeg));
    assert_eq!(first.thumbnail_id, sha256_hex(&first.thumbnail));
    assert_eq!(first.id.len(), 64);
    assert!(first.id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "lowercase hex: {}", first.id);
    assert_ne!(first.id, first.thumbnail_id);
}

#[test]
fn capture_time_is_kept_beside_the_photo_and_metadata_is_stripped() {
    let bytes = with_exif(&jpeg(&photo_like(1200, 900)), &exif_tiff(1, Some("2024:05:17 14:03:22")));
    assert!(jpeg_segment_markers(&bytes).contains(&0xE1), "the input does carry EXIF");
    for options in both_paths(500) {
        let photo = process_photo(&bytes, &options).unwrap();
        let expected = NaiveDate::from_ymd_opt(2024, 5, 17).unwrap().and_hms_opt(14, 3, 22).unwrap();
        assert_eq!(photo.captured_at, Some(expected));
        for output in [&photo.jpeg, &photo.thumbnail] {
            let markers = jpeg_segment_markers(output);
            assert!(markers.iter().all(|marker| !(0xE1..=0xEF).contains(marker)), "APP segments left: {markers:x?}");
            assert!(!output.windows(6).any(|window| window == b"Exif\0\0"));
        }
    }
    let without_exif = process_photo(&jpeg(&photo_like(300, 200)), &PhotoOptions::default()).unwrap();
    assert_eq!(without_exif.captured_at, None);
}

#[test]
fn transparency_becomes_white() {
    let mut image = RgbaImage::from_pixel(200, 100, Rgba([0, 0, 0, 0]));
    for x in 0..100 {
        for y in 0..100 {
            image.put_pixel(x, y, Rgba([220, 20, 20, 255]));
        }
    }
    let photo = process_photo(&png(&DynamicImage::ImageRgba8(image)), &PhotoOptions::default()).unwrap();
    let output = decode(&photo.jpeg);
    assert_colour_near(&output, 50, 50, RED, "opaque half");
    assert_colour_near(&output, 150, 50, WHITE, "transparent half");
}

#[test]
fn an_empty_file_is_refused() {
    assert_eq!(refusal_code(&[], &PhotoOptions::default()), "empty_file");
}

#[test]
fn a_file_over_the_byte_limit_is_refused() {
    let bytes = jpeg(&photo_like(300, 200));
    let options = PhotoOptions { max_bytes: 1000, ..PhotoOptions::default() };
    assert_eq!(refusal_code(&bytes, &options), "too_large");
    assert_eq!(PhotoOptions::default().max_bytes, 40 * 1024 * 1024);
}

#[test]
fn a_text_file_named_jpg_is_refused_by_its_content() {
    // The pipeline is never told the name; "photo.jpg" holding text is judged by its bytes.
    let error = process_photo(b"Customer asked for a call back on Monday.\n", &PhotoOptions::default()).unwrap_err();
    assert_eq!(error.code(), "unsupported_format");
    assert!(error.to_string().contains("a text file"), "{error}");
    assert_eq!(refusal_code(b"GIF89a\x01\x00\x01\x00", &PhotoOptions::default()), "unsupported_format");
}

#[test]
fn heic_is_refused_with_the_camera_setting_that_avoids_it() {
    // A real HEIC file, HEVC-coded by libheif's `heif-enc` (Debian's libheif-examples) from a
    // 320×240 picture, as an iPhone saves photos by default.
    let heic = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/photo-320x240.heic")).unwrap();
    assert_eq!(&heic[4..12], b"ftypheic", "an ISO BMFF file of the heic brand");
    let error = process_photo(&heic, &PhotoOptions::default()).unwrap_err();
    assert_eq!(error.code(), "heic_not_supported");
    assert!(error.to_string().contains("Most Compatible"), "{error}");
    let heif = b"\0\0\0\x14ftypmif1\0\0\0\0msf1".to_vec();
    assert_eq!(refusal_code(&heif, &PhotoOptions::default()), "heic_not_supported");
}

#[test]
fn a_truncated_jpeg_is_broken_on_both_decode_paths() {
    let bytes = jpeg(&photo_like(1200, 900));
    let truncated = &bytes[..bytes.len() * 2 / 3];
    for options in both_paths(500) {
        assert_eq!(refusal_code(truncated, &options), "broken_image", "scaled {}", options.scaled_jpeg_decode);
    }
    // Cut inside the headers, too.
    assert_eq!(refusal_code(&bytes[..40], &PhotoOptions::default()), "broken_image");
}

#[test]
fn broken_png_and_webp_are_refused() {
    let png = png(&DynamicImage::ImageRgb8(photo_like(300, 200)));
    assert_eq!(refusal_code(&png[..png.len() / 2], &PhotoOptions::default()), "broken_image");
    let mut corrupted = png.clone();
    corrupted[40] ^= 0xFF; // inside the IHDR chunk: its CRC no longer matches
    assert_eq!(refusal_code(&corrupted, &PhotoOptions::default()), "broken_image");
    let webp = webp(&photo_like(300, 200));
    assert_eq!(refusal_code(&webp[..webp.len() / 2], &PhotoOptions::default()), "broken_image");
}

#[test]
fn a_png_decompression_bomb_is_refused_from_its_header() {
    let bomb = png_claiming_size(100_000, 100_000); // 40 GB of pixels in a few dozen bytes
    assert!(bomb.len() < 100);
    let started = Instant::now();
    let error = process_photo(&bomb, &PhotoOptions::default()).unwrap_err();
    assert!(
        matches!(error, MediaError::TooManyPixels { width: 100_000, height: 100_000, max_pixels: 50_000_000 }),
        "{error:?}"
    );
    assert_eq!(error.code(), "too_many_pixels");
    assert!(started.elapsed() < Duration::from_secs(1), "refused without decoding");
}

#[test]
fn a_jpeg_claiming_too_many_pixels_is_refused_on_both_decode_paths() {
    let bomb = jpeg_claiming_size(60_000, 60_000);
    for options in both_paths(1600) {
        assert_eq!(refusal_code(&bomb, &options), "too_many_pixels");
    }
    // The limit is the caller's to set.
    let photo = jpeg(&photo_like(400, 300));
    let options = PhotoOptions { max_pixels: 100_000, ..PhotoOptions::default() };
    assert_eq!(refusal_code(&photo, &options), "too_many_pixels");
}
