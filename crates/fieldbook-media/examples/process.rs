//! Processes one photo and prints what came out and how long it took, with the scaled JPEG
//! decode and without it.
//!
//! ```text
//! cargo run --release -p fieldbook-media --example process -- PHOTO [--repeat N] [--out DIR]
//! ```
//!
//! With `--out DIR` the stored photo and the thumbnail are written there, named by content id.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fieldbook_media::{PhotoOptions, process_photo};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let usage = "usage: process PHOTO [--repeat N] [--out DIR]";
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut repeat = 5usize;
    let mut out_dir = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => {
                let value = args.next().ok_or(usage)?;
                repeat = value.parse().map_err(|_| format!("--repeat needs a number, not {value:?}"))?;
            }
            "--out" => out_dir = Some(PathBuf::from(args.next().ok_or(usage)?)),
            "-h" | "--help" => return Err(usage.to_owned()),
            _ if path.is_none() => path = Some(PathBuf::from(arg)),
            _ => return Err(usage.to_owned()),
        }
    }
    let path = path.ok_or(usage)?;
    let repeat = repeat.max(1);

    let started = Instant::now();
    let bytes = std::fs::read(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    println!("read {} ({} bytes) in {:.1?}", path.display(), bytes.len(), started.elapsed());

    for scaled_jpeg_decode in [true, false] {
        let options = PhotoOptions { scaled_jpeg_decode, ..PhotoOptions::default() };
        let mut timings = Vec::with_capacity(repeat);
        let mut result = None;
        for _ in 0..repeat {
            let started = Instant::now();
            let outcome = process_photo(&bytes, &options);
            timings.push(started.elapsed());
            result = Some(outcome);
        }
        let photo = match result.expect("at least one run") {
            Ok(photo) => photo,
            Err(error) => return Err(format!("refused ({}): {error}", error.code())),
        };
        timings.sort();
        println!(
            "scaled JPEG decode {}: min {:.1?}, median {:.1?}, max {:.1?} over {repeat} runs",
            if scaled_jpeg_decode { "on " } else { "off" },
            timings[0],
            median(&timings),
            timings[timings.len() - 1],
        );
        if scaled_jpeg_decode {
            println!(
                "  {} {}×{} (upright) -> {}×{} JPEG, {} bytes, id {}",
                photo.source_format,
                photo.source_width,
                photo.source_height,
                photo.width,
                photo.height,
                photo.jpeg.len(),
                photo.id
            );
            println!(
                "  thumbnail {}×{}, {} bytes, id {}",
                photo.thumbnail_width,
                photo.thumbnail_height,
                photo.thumbnail.len(),
                photo.thumbnail_id
            );
            match photo.captured_at {
                Some(time) => println!("  captured at {time}"),
                None => println!("  no capture time in the EXIF data"),
            }
            if let Some(dir) = &out_dir {
                std::fs::create_dir_all(dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
                for (id, bytes) in [(&photo.id, &photo.jpeg), (&photo.thumbnail_id, &photo.thumbnail)] {
                    let file = dir.join(format!("{id}.jpg"));
                    std::fs::write(&file, bytes)
                        .map_err(|error| format!("cannot write {}: {error}", file.display()))?;
                    println!("  wrote {}", file.display());
                }
            }
        }
    }
    Ok(())
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}
