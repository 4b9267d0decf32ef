use fieldbook_media::{MediaError, check_signature};
use image::Rgba;

use crate::support::*;

fn refusal_code(png: &[u8]) -> &'static str {
    match check_signature(png) {
        Ok(signature) => panic!("expected a refusal, got a {}×{} signature", signature.width, signature.height),
        Err(error) => error.code(),
    }
}

#[test]
fn a_blank_pad_is_refused_with_a_request_to_sign_again() {
    for white_background in [false, true] {
        let error = check_signature(&png_rgba(&canvas(600, 200, white_background))).unwrap_err();
        assert!(matches!(error, MediaError::SignatureBlank { stroke_length: 0, .. }), "{error:?}");
        assert_eq!(error.code(), "signature_blank");
        assert!(error.to_string().contains("sign again"), "{error}");
    }
}

#[test]
fn a_single_dot_is_blank() {
    let mut pad = canvas(600, 200, false);
    stamp(&mut pad, 300.0, 100.0, 4.0, Rgba([0, 0, 0, 255]));
    assert_eq!(refusal_code(&png_rgba(&pad)), "signature_blank");
}

#[test]
fn a_short_tick_is_blank() {
    let mut pad = canvas(600, 200, false);
    draw_stroke(&mut pad, &[(280.0, 100.0), (300.0, 110.0), (330.0, 80.0)], 2.5);
    assert_eq!(refusal_code(&png_rgba(&pad)), "signature_blank");
}

#[test]
fn faint_or_transparent_marks_are_not_ink() {
    let mut pad = canvas(600, 200, false);
    scribble(&mut pad);
    // The same strokes, but light grey or nearly transparent: not ink.
    let light: Vec<u8> = pad.pixels().flat_map(|p| if p[3] > 0 { [200, 200, 200, 255] } else { p.0 }).collect();
    let faint: Vec<u8> = pad.pixels().flat_map(|p| if p[3] > 0 { [0, 0, 0, 100] } else { p.0 }).collect();
    for pixels in [light, faint] {
        let image = image::RgbaImage::from_raw(600, 200, pixels).unwrap();
        assert_eq!(refusal_code(&png_rgba(&image)), "signature_blank");
    }
}

#[test]
fn a_signature_is_accepted_and_trimmed_to_its_ink() {
    for white_background in [false, true] {
        let mut pad = canvas(600, 200, white_background);
        scribble(&mut pad);
        let signature = check_signature(&png_rgba(&pad)).unwrap();
        assert!(signature.width < 600 && signature.height < 200, "{}×{}", signature.width, signature.height);
        // The ink spans x 60..540 (plus the pen's radius), then 8 px of margin each side.
        assert!((495..=505).contains(&signature.width), "width {}", signature.width);
        assert!(signature.coverage > 0.002 && signature.coverage < 0.2, "coverage {}", signature.coverage);
        assert!(signature.stroke_length >= 600, "stroke length {}", signature.stroke_length);
        assert_eq!(format_of(&signature.png), image::ImageFormat::Png);
        let trimmed = image::load_from_memory(&signature.png).unwrap().into_rgba8();
        assert_eq!(trimmed.dimensions(), (signature.width, signature.height));
        // The margin is background, and the transparency of a pad's PNG is kept.
        let corner = *trimmed.get_pixel(0, 0);
        assert_eq!(corner, if white_background { Rgba([255, 255, 255, 255]) } else { Rgba([0, 0, 0, 0]) });
    }
}

#[test]
fn a_signature_has_a_stable_content_id() {
    let mut pad = canvas(900, 300, false);
    scribble(&mut pad);
    let png = png_rgba(&pad);
    let first = check_signature(&png).unwrap();
    let second = check_signature(&png).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.id, sha256_hex(&first.png));
}

#[test]
fn what_is_not_a_png_signature_is_refused() {
    assert_eq!(refusal_code(&[]), "empty_file");
    let error = check_signature(&jpeg(&upright_picture(60, 40))).unwrap_err();
    assert_eq!(error.code(), "unsupported_format");
    assert!(error.to_string().contains("PNG signature image"), "{error}");
    let png = png_rgba(&canvas(600, 200, false));
    assert_eq!(refusal_code(&png[..png.len() / 2]), "broken_image");
    assert_eq!(refusal_code(&png_claiming_size(100_000, 100_000)), "too_many_pixels");
}
