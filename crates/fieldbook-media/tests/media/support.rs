use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use sha2::{Digest, Sha256};

pub const RED: Rgb<u8> = Rgb([220, 20, 20]);
pub const BLUE: Rgb<u8> = Rgb([20, 20, 220]);
pub const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// An upright landscape picture whose orientation can be read back: white, with a red block in
/// the top-left third and a blue block in the top-right third. Two distinct corners fix every
/// one of the eight rotations and flips.
pub fn upright_picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let top = y < height / 3;
        if top && x < width / 3 {
            RED
        } else if top && x >= width - width / 3 {
            BLUE
        } else {
            WHITE
        }
    })
}

/// A picture with photo-like content (gradients and edges) for comparing decoders.
pub fn photo_like(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let fx = x as f32 / width as f32;
        let fy = y as f32 / height as f32;
        let ring = (((fx - 0.5).powi(2) + (fy - 0.5).powi(2)).sqrt() * 40.0).sin();
        Rgb([(255.0 * fx) as u8, (255.0 * fy) as u8, (127.0 + 120.0 * ring) as u8])
    })
}

/// The pixels a camera stores for `upright` when it tags them with EXIF `orientation`, built
/// from the EXIF definition of where row 0 and column 0 are shown (not from the `image` crate,
/// which is what is being checked).
pub fn as_stored(upright: &RgbImage, orientation: u16) -> RgbImage {
    let (upright_width, upright_height) = upright.dimensions();
    let swaps = orientation >= 5;
    let (width, height) = if swaps { (upright_height, upright_width) } else { (upright_width, upright_height) };
    RgbImage::from_fn(width, height, |x, y| {
        let (shown_x, shown_y) = match orientation {
            1 => (x, y),
            2 => (width - 1 - x, y),
            3 => (width - 1 - x, height - 1 - y),
            4 => (x, height - 1 - y),
            5 => (y, x),
            6 => (height - 1 - y, x),
            7 => (height - 1 - y, width - 1 - x),
            8 => (y, width - 1 - x),
            _ => panic!("orientation {orientation} is not 1 to 8"),
        };
        *upright.get_pixel(shown_x, shown_y)
    })
}

pub fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 92).encode_image(image).unwrap();
    bytes
}

pub fn png(image: &DynamicImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_with_encoder(PngEncoder::new(&mut bytes)).unwrap();
    bytes
}

pub fn webp(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_with_encoder(WebPEncoder::new_lossless(&mut bytes)).unwrap();
    bytes
}

pub fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).unwrap().into_rgb8()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The TIFF structure of an EXIF block holding an Orientation tag and, if given, a
/// DateTimeOriginal ("YYYY:MM:DD HH:MM:SS") in the Exif sub-IFD. Little-endian, as phones write.
pub fn exif_tiff(orientation: u16, date_time_original: Option<&str>) -> Vec<u8> {
    fn entry(tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(kind.to_le_bytes());
        tiff.extend(count.to_le_bytes());
        tiff.extend(value.to_le_bytes());
    }
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes()); // IFD0 follows the header
    let entries: u16 = if date_time_original.is_some() { 2 } else { 1 };
    tiff.extend(entries.to_le_bytes());
    // A SHORT value sits in the first two bytes of the four-byte value field.
    entry(&mut tiff, 0x0112, SHORT, 1, u32::from(orientation));
    let exif_ifd_offset = 8 + 2 + 12 * u32::from(entries) + 4;
    if date_time_original.is_some() {
        entry(&mut tiff, 0x8769, LONG, 1, exif_ifd_offset);
    }
    tiff.extend(0u32.to_le_bytes()); // no next IFD
    if let Some(text) = date_time_original {
        assert_eq!(text.len(), 19);
        let text_offset = exif_ifd_offset + 2 + 12 + 4;
        tiff.extend(1u16.to_le_bytes());
        entry(&mut tiff, 0x9003, ASCII, 20, text_offset);
        tiff.extend(0u32.to_le_bytes());
        tiff.extend(text.as_bytes());
        tiff.push(0);
    }
    tiff
}

/// The JPEG with an APP1 "Exif" segment holding `tiff`, placed after the JFIF APP0 segment as
/// cameras do.
pub fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut insert_at = 2;
    if jpeg[2..4] == [0xFF, 0xE0] {
        insert_at = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    }
    let payload: Vec<u8> = b"Exif\0\0".iter().chain(tiff).copied().collect();
    let mut out = jpeg[..insert_at].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[insert_at..]);
    out
}

/// The markers of a JPEG's segments before its first scan, e.g. 0xE0 for APP0.
pub fn jpeg_segment_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut position = 2;
    while position + 4 <= jpeg.len() && jpeg[position] == 0xFF {
        let marker = jpeg[position + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        position += 2 + usize::from(u16::from_be_bytes([jpeg[position + 2], jpeg[position + 3]]));
    }
    markers
}

/// A JPEG whose frame header claims `width` × `height` while its data is that of a small image.
pub fn jpeg_claiming_size(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(&upright_picture(64, 48));
    let frame = bytes.windows(2).position(|pair| pair == [0xFF, 0xC0]).expect("a baseline frame header");
    bytes[frame + 5..frame + 7].copy_from_slice(&height.to_be_bytes());
    bytes[frame + 7..frame + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A PNG chunk with its CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    chunk.extend(kind);
    chunk.extend(data);
    chunk.extend(crc32(&chunk[4..]).to_be_bytes());
    chunk
}

/// A decompression bomb's header: a PNG whose IHDR claims `width` × `height` RGBA pixels, with a
/// few bytes of image data. Decoding it would need width × height × 4 bytes.
pub fn png_claiming_size(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]); // 8 bits, RGBA, deflate, adaptive filtering, not interlaced
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &ihdr));
    // A zlib stream of a few zero bytes; the decoder must never get this far.
    bytes.extend(png_chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]));
    bytes.extend(png_chunk(b"IEND", &[]));
    bytes
}

/// The PNG with an eXIf chunk holding `tiff`, placed after IHDR.
pub fn png_with_exif(png: &[u8], tiff: &[u8]) -> Vec<u8> {
    let after_ihdr = 8 + 4 + 4 + 13 + 4;
    let mut out = png[..after_ihdr].to_vec();
    out.extend(png_chunk(b"eXIf", tiff));
    out.extend(&png[after_ihdr..]);
    out
}

/// CRC-32 (IEEE) as PNG uses it, bit by bit: slow but obviously right, for test inputs.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A signature pad's canvas: transparent, or white when `white_background`.
pub fn canvas(width: u32, height: u32, white_background: bool) -> RgbaImage {
    let background = if white_background { Rgba([255, 255, 255, 255]) } else { Rgba([0, 0, 0, 0]) };
    RgbaImage::from_pixel(width, height, background)
}

/// Draws a stroke of `radius` through `points` in near-black ink, as a signature pad does.
pub fn draw_stroke(canvas: &mut RgbaImage, points: &[(f32, f32)], radius: f32) {
    let ink = Rgba([20, 20, 40, 255]);
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let steps = ((x1 - x0).hypot(y1 - y0) * 2.0).ceil().max(1.0) as u32;
        for step in 0..=steps {
            let t = step as f32 / steps as f32;
            stamp(canvas, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, radius, ink);
        }
    }
}

pub fn stamp(canvas: &mut RgbaImage, cx: f32, cy: f32, radius: f32, ink: Rgba<u8>) {
    let (width, height) = canvas.dimensions();
    let x_range = (cx - radius).floor().max(0.0) as u32..=((cx + radius).ceil() as u32).min(width - 1);
    for x in x_range {
        let y_range = (cy - radius).floor().max(0.0) as u32..=((cy + radius).ceil() as u32).min(height - 1);
        for y in y_range {
            if (x as f32 - cx).hypot(y as f32 - cy) <= radius {
                canvas.put_pixel(x, y, ink);
            }
        }
    }
}

/// A wavy scribble across the middle of the canvas, about 900 px of stroke.
pub fn scribble(canvas: &mut RgbaImage) {
    let (width, height) = canvas.dimensions();
    let (width, height) = (width as f32, height as f32);
    let points: Vec<(f32, f32)> = (0..=120)
        .map(|i| {
            let x = width * 0.1 + width * 0.8 * i as f32 / 120.0;
            (x, height / 2.0 + height * 0.2 * (x / 20.0).sin())
        })
        .collect();
    draw_stroke(canvas, &points, 2.5);
}

pub fn png_rgba(image: &RgbaImage) -> Vec<u8> {
    png(&DynamicImage::ImageRgba8(image.clone()))
}

pub fn format_of(bytes: &[u8]) -> ImageFormat {
    image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().unwrap().format().unwrap()
}
