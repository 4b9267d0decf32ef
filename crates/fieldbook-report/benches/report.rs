//! Typesetting time of a visit report with 20 photos, in Chinese (`cargo bench -p
//! fieldbook-report --bench report`, or `./dev bench`). Prints the font loading (once per
//! process) and the median render of the whole PDF.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use fieldbook_report::{DEFAULT_TEMPLATE, Fonts, forget_cached_work, render};

fn main() {
    let started = Instant::now();
    let fonts = Fonts::load().expect("the report fonts (fonts-noto-cjk)");
    println!("font loading (once per process):             {:8.1} ms", ms(started.elapsed()));
    let sample = support::sample(20);
    for locale in ["zh-CN", "en"] {
        let (data, images) = sample.report(locale);
        let image_bytes: usize = images.iter().map(|i| i.bytes.len()).sum();
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut size = 0;
        for _ in 0..7 {
            // Cold: nothing memoized from before (the first report after start).
            forget_cached_work();
            let start = Instant::now();
            size = render(&fonts, DEFAULT_TEMPLATE, &data, &images).expect("render").len();
            cold.push(start.elapsed());
            // Warm: the same report again, Typst's memoized layout reused.
            let start = Instant::now();
            render(&fonts, DEFAULT_TEMPLATE, &data, &images).expect("render");
            warm.push(start.elapsed());
        }
        cold.sort();
        warm.sort();
        println!(
            "report {locale:<5} with {} photos ({} KB of images): cold median {:7.1} ms (min {:7.1}), warm median {:5.1} ms, of 7; PDF {} KB",
            data.photos.len(),
            image_bytes / 1024,
            ms(cold[3]),
            ms(cold[0]),
            ms(warm[3]),
            size / 1024
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
