//! 12-megapixel camera JPEGs → the stored 1600 px JPEG and the 256 px thumbnail, Fieldbook's
//! pipeline against libvips' `vipsthumbnail` (Debian package libvips-tools) on the same files in
//! the same run. `cargo bench -p fieldbook-media --bench photos` (or `./dev bench`).
//!
//! Both sides do the same work per photo: decode (shrinking inside the JPEG decoder where it
//! can), apply the EXIF orientation, resize to a 1600 px long edge and to a 256 px one, encode
//! both as JPEG quality 80 without metadata. vipsthumbnail makes one size per run, so it runs
//! twice per photo (1600 px from the original, 256 px from the 1600 px result, the cheaper
//! order), and its process start-up is part of its time; Fieldbook's figure is the library call.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fieldbook_media::{PhotoOptions, process_photo};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;
const ROUNDS: usize = 5;

/// A 4000×3000 picture with gradients, rings and fine noise, so its JPEG is photo-sized
/// (several MB at quality 92) rather than a flat image that compresses to nothing.
fn camera_photo(seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as f32 - 12.0;
        let fx = x as f32 / WIDTH as f32;
        let fy = y as f32 / HEIGHT as f32;
        let ring = (((fx - 0.4).powi(2) + (fy - 0.6).powi(2)).sqrt() * (30.0 + seed as f32)).sin();
        let c = |v: f32| (v + noise).clamp(0.0, 255.0) as u8;
        Rgb([c(255.0 * fx), c(255.0 * fy), c(127.0 + 110.0 * ring)])
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 92).encode_image(&image).expect("encode");
    bytes
}

fn vipsthumbnail(args: &[&str]) -> Result<(), String> {
    let out = Command::new("vipsthumbnail").args(args).output().map_err(|e| format!("vipsthumbnail: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

fn vips_both(input: &Path, dir: &Path) -> Result<(), String> {
    let stored = dir.join("stored.jpg");
    let thumb = dir.join("thumb.jpg");
    vipsthumbnail(&[input.to_str().unwrap(), "--size", "1600", "-o", &format!("{}[Q=80,strip]", stored.display())])?;
    vipsthumbnail(&[stored.to_str().unwrap(), "--size", "256", "-o", &format!("{}[Q=80,strip]", thumb.display())])
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e3
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let photos: Vec<(std::path::PathBuf, Vec<u8>)> = (1..=3)
        .map(|seed| {
            let bytes = camera_photo(seed);
            let path = dir.path().join(format!("photo-{seed}.jpg"));
            std::fs::write(&path, &bytes).expect("write the photo");
            (path, bytes)
        })
        .collect();
    for (path, bytes) in &photos {
        println!(
            "{}: {WIDTH}×{HEIGHT}, {:.1} MB",
            path.file_name().unwrap().to_string_lossy(),
            bytes.len() as f64 / 1e6
        );
    }
    if let Err(e) = vips_both(&photos[0].0, dir.path()) {
        eprintln!("vipsthumbnail is needed for the comparison (apt-get install libvips-tools): {e}");
        std::process::exit(1);
    }
    let options = PhotoOptions::default();
    let (mut ours, mut vips) = (Vec::new(), Vec::new());
    // Interleaved, so a noisy moment hits both sides alike.
    for _ in 0..ROUNDS {
        for (path, bytes) in &photos {
            let start = Instant::now();
            let processed = process_photo(bytes, &options).expect("a valid photo");
            ours.push(start.elapsed());
            assert_eq!(processed.width.max(processed.height), 1600);
            let start = Instant::now();
            vips_both(path, dir.path()).expect("vipsthumbnail");
            vips.push(start.elapsed());
        }
    }
    let (ours, vips) = (median(ours), median(vips));
    println!("Fieldbook process_photo (1600 px + 256 px thumbnail): {ours:7.1} ms median of {}", ROUNDS * photos.len());
    println!("vipsthumbnail, two runs (1600 px, then 256 px):       {vips:7.1} ms median of {}", ROUNDS * photos.len());
    println!("ratio Fieldbook / vipsthumbnail: {:.2}x (goal <= 1.5x)", ours / vips);
}
